/** headersOnlySize is the length of the block headersOnlyBlock builds (flow control and rate counts use it). */
import { describe, expect, it } from 'vitest';
import { headersOnlyBlock, headersOnlySize } from '../../src/jetstream/headers.js';

describe('headersOnlySize', () => {
  it('equals the length of headersOnlyBlock for messages with and without headers, any payload size', () => {
    const hdrs: Array<Buffer | null> = [null, Buffer.alloc(0), Buffer.from('NATS/1.0\r\n\r\n'), Buffer.from('NATS/1.0\r\nX-K: v\r\nNats-Msg-Id: abc\r\n\r\n')];
    for (const h of hdrs) {
      for (const size of [0, 9, 10, 300_001, 1_048_576]) expect(headersOnlySize(h, size), `${String(h)} ${size}`).toBe(headersOnlyBlock(h, size).length);
    }
  });
});
