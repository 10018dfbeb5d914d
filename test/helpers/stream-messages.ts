/** Every message a stream holds now, read one by one through STREAM.MSG.GET (gaps skipped). */
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';

export async function storedMessages(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const st = (await jsm.streams.info(stream)).state;
  const out: StoredMsg[] = [];
  for (let seq = st.first_seq; seq <= st.last_seq && st.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m !== null) out.push(m);
  }
  return out;
}
