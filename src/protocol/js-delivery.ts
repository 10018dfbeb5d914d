/**
 * A JetStream delivery that crossed a route or a gateway: nats-server's processMsgResults sends
 * it on the delivery subject with the stored subject after an `@` in its `$JS.ACK.` reply.
 */
import type { PubArg } from './parser.js';

const JS_ACK_PREFIX = '$JS.ACK.';

/**
 * A routed JetStream delivery: a `$JS.ACK.` reply with `@<stored subject>` after its eighth dot
 * (nats-server's processMsgResults) becomes a delivery on the RMSG subject showing the stored
 * subject (pa.deliver set, as a consumer's own delivery has it); anything else has no deliver.
 */
export function remapJetStreamDelivery(pa: PubArg): void {
  pa.deliver = '';
  const reply = pa.reply;
  if (!reply.startsWith(JS_ACK_PREFIX)) return;
  let dots = 0;
  for (let i = 0; i < reply.length - 1; i++) {
    const c = reply.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (c === 0x40 && dots >= 8) {
      pa.deliver = pa.subject;
      pa.subject = reply.slice(i + 1);
      pa.reply = reply.slice(0, i);
      return;
    }
  }
}
