/** A stream store without limits: what the store and consumer-state tests build their stores on. */
import type { StoreLimits } from '../../src/jetstream/store/store.js';

export const NO_LIMITS: StoreLimits = {
  maxMsgs: -1,
  maxBytes: -1,
  maxAgeMs: 0,
  maxMsgsPerSubject: -1,
  maxMsgSize: -1,
  discard: 'old',
  discardNewPerSubject: false,
};
