// A global setup runs outside vitest's test runtime: import from nats-embedded/global-setup.
import { natsGlobalSetup } from 'nats-embedded/global-setup';

export default natsGlobalSetup({ maxPayload: 8_388_608 });
