/**
 * The JSON of a consumer's delivery advisories, as nats-server 2.10.29 writes them
 * (server/jetstream_events.go `JSConsumerDeliveryNakAdvisory`, `…TerminatedAdvisory`,
 * `…ExceededAdvisory`; sent by consumer.go `processNak`, `processTerm`, `notifyDeliveryExceeded`):
 *
 * - `$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.<stream>.<consumer>`: `io.nats.jetstream.advisory.v1.nak`
 * - `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.<stream>.<consumer>`: `…v1.terminated` (`reason`
 *   omitted when empty; 2.10 reads it from `+TERM <reason>` as 2.11 does)
 * - `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`: `…v1.max_deliver` (no
 *   `consumer_seq`)
 *
 * Built only when someone listens (the caller checks interest first).
 */
import { newNuid } from '../broker/ids.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';

/** Which delivery advisory: the last token of its `type`. */
export type DeliveryAdvisoryKind = 'nak' | 'terminated' | 'max_deliver';

/** The advisory's JSON text, fields in Go's struct order. */
export function deliveryAdvisory(
  kind: DeliveryAdvisoryKind,
  stream: string,
  consumer: string,
  dseq: number,
  sseq: number,
  deliveries: number,
  reason: string | null,
  domain: string | null,
): string {
  return `{"type":"io.nats.jetstream.advisory.v1.${kind}","id":${goJson(newNuid(), false)},`
    + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"stream":${goJson(stream, false)},"consumer":${goJson(consumer, false)},`
    + `${kind === 'max_deliver' ? '' : `"consumer_seq":${dseq},`}"stream_seq":${sseq},"deliveries":${deliveries}`
    + `${reason === null || reason === '' ? '' : `,"reason":${goJson(reason, false)}`}`
    + `${domain === null || domain === '' ? '' : `,"domain":${goJson(domain, false)}`}}`;
}
