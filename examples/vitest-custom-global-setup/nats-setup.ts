// The README's custom global setup. Fails today: importing nats-embedded/vitest builds the
// natsTest fixture (test.extend), and vitest has no test runtime in a global setup.
import { natsGlobalSetup } from 'nats-embedded/vitest';

export default natsGlobalSetup({ maxPayload: 8_388_608 });
