import { natsGlobalSetup } from 'nats-embedded/global-setup';

// One broker with JetStream for the whole run (with NATS_EMBEDDED_BACKEND=nats-server: the real
// nats-server with -js and a temporary store). Its store is removed after the run.
export default natsGlobalSetup({ jetstream: true });
