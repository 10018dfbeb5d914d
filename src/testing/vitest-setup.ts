/**
 * `nats-embedded/vitest-setup`: a ready-made vitest `globalSetup`,
 * `globalSetup: ['nats-embedded/vitest-setup']`. Starts one broker (or
 * `NATS_EMBEDDED_CLUSTER_SIZE` servers) for the whole run; `NATS_EMBEDDED_BACKEND` picks the
 * backend, as for `createServer()`. Like `nats-embedded/global-setup`, it never loads vitest.
 */
import { natsGlobalSetup } from './global-setup.js';

const size = Number(process.env.NATS_EMBEDDED_CLUSTER_SIZE ?? '1');

export default natsGlobalSetup(Number.isInteger(size) && size > 1 ? { clusterSize: size } : {});
