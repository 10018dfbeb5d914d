import { natsGlobalSetup } from 'nats-embedded/global-setup';

// Three routed servers for the whole run. With NATS_EMBEDDED_BACKEND=nats-server (example.json),
// they are real nats-server processes.
export default natsGlobalSetup({ clusterSize: 3 });
