/**
 * Reading the JetStream headers of a published message (`Nats-Msg-Id`, `Nats-Expected-*`,
 * `Nats-Rollup`) straight from its raw header block, as nats-server's `sliceHeader` does: the
 * first occurrence of the name, case-sensitive, must start a line and be followed by `:`;
 * spaces before the value are skipped; the value runs to the CRLF. No parse of the whole block.
 */

export const HDR_MSG_ID = 'Nats-Msg-Id';
export const HDR_EXPECTED_STREAM = 'Nats-Expected-Stream';
export const HDR_EXPECTED_LAST_SEQ = 'Nats-Expected-Last-Sequence';
export const HDR_EXPECTED_LAST_SUBJ_SEQ = 'Nats-Expected-Last-Subject-Sequence';
export const HDR_EXPECTED_LAST_MSG_ID = 'Nats-Expected-Last-Msg-Id';
export const HDR_ROLLUP = 'Nats-Rollup';

/** The value of header `name` in `hdr` (latin1 by default, as the bytes are; `utf8` for text written as UTF-8), or null when absent. */
export function headerValue(hdr: Buffer | null, name: string, encoding: 'latin1' | 'utf8' = 'latin1'): string | null {
  if (hdr === null || hdr.length === 0) return null;
  let i = hdr.indexOf(name, 0, 'latin1');
  const n = hdr.length;
  if (i < 2 || i >= n - 1 || hdr[i - 1] !== 0x0a || hdr[i - 2] !== 0x0d) return null;
  i += name.length + 1;
  if (i >= n || hdr[i - 1] !== 0x3a) return null;
  while (i < n && hdr[i] === 0x20) i++;
  const start = i;
  while (i < n && !(hdr[i] === 0x0d && i < n - 1 && hdr[i + 1] === 0x0a)) i++;
  return hdr.toString(encoding, start, i);
}

/**
 * nats-server's `parseInt64` of a header value: decimal digits only, else -1; read as the
 * uint64 it then compares (so -1 is 2^64-1, which matches no sequence).
 */
export function headerSeq(value: string): number {
  if (value.length === 0 || value.length > 18 || !/^\d+$/.test(value)) return Number.MAX_SAFE_INTEGER;
  return Number(value);
}

const HDR_LINE = 'NATS/1.0\r\n';

/**
 * The header block a `headers_only` consumer delivers (consumer.go convertToHeadersOnly): the
 * stored block without its final CRLF (or `NATS/1.0\r\n` when the message has no headers), then
 * `Nats-Msg-Size: <payload length>` and the closing blank line. The payload is not sent.
 */
export function headersOnlyBlock(hdr: Buffer | null, size: number): Buffer {
  const tail = `Nats-Msg-Size: ${size}\r\n\r\n`;
  if (hdr === null || hdr.length === 0) return Buffer.from(HDR_LINE + tail, 'latin1');
  const keep = hdr.length - 2;
  const out = Buffer.allocUnsafe(keep + tail.length);
  hdr.copy(out, 0, 0, keep);
  out.write(tail, keep, 'latin1');
  return out;
}

/**
 * consumer.go sendIdleHeartbeat: `100 Idle Heartbeat` with the last delivered consumer and stream
 * sequences, and `Nats-Consumer-Stalled` (the outstanding flow-control subject) when stalled.
 */
export function idleHeartbeat(lastConsumer: number, lastStream: number, stalled = ''): Buffer {
  return Buffer.from(
    `NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: ${lastConsumer}\r\nNats-Last-Stream: ${lastStream}\r\n`
      + `${stalled === '' ? '' : `Nats-Consumer-Stalled: ${stalled}\r\n`}\r\n`,
    'latin1',
  );
}
