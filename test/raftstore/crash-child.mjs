// The child of file-storage.crash.test.ts: opens a FileRaftStorage (from the esbuild bundle the
// test made) and writes as fast as it can until it is SIGKILLed: appends of 1..20 entries, now
// and then a new term and vote, a conflicting suffix replaced (in a new term), a compaction.
// After each sync() it reports over IPC what is now durable:
//   { t: 'synced', term, vote, from, terms, snap: [lastIndex, lastTerm] | null }
// (`terms`: the terms of the entries from index `from` on, the ones this batch wrote). Before a
// batch that replaces synced entries it sends { t: 'pending', from, terms } and waits until the
// message is handed to the channel, so the checker knows what an unreported batch may have done.
//
//   node crash-child.mjs <bundle.mjs> <dir> <seed>
const [bundle, dir, seedArg] = process.argv.slice(2);
const { FileRaftStorage, entryBytes } = await import(bundle);

let seed = Number(seedArg) >>> 0 || 1;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n) => Math.floor(rnd() * n);
const send = (m) => new Promise((resolve) => process.send(m, undefined, undefined, () => resolve()));

const s = new FileRaftStorage(dir, { segmentBytes: 64 * 1024 });
const st = s.load();
let term = st.term;
let vote = st.vote;
let base = st.snapshot?.lastIndex ?? 0;
const terms = st.entries.map((e) => e.term); // terms of base+1..
let snap = st.snapshot ? [st.snapshot.lastIndex, st.snapshot.lastTerm] : null;
await send({ t: 'open', last: base + terms.length });
const VOTES = [null, 'a', 'b', 'c'];

for (;;) {
  const last = base + terms.length;
  const roll = rnd();
  let from = last + 1;
  let batch = [];
  if (roll < 0.05 || term === 0) {
    term++;
    vote = VOTES[int(VOTES.length)];
    s.saveTermVote(term, vote);
  } else if (roll < 0.1 && terms.length > 8) {
    // Replace a synced suffix in a new term: the checker must hear of it first.
    term++;
    s.saveTermVote(term, vote);
    from = last - int(6);
    batch = Array.from({ length: 1 + int(4) }, () => term);
    await send({ t: 'pending', from, terms: batch, term, vote });
  } else if (roll < 0.16 && terms.length > 20) {
    const at = base + 1 + int(terms.length - 5);
    const lastTerm = terms[at - base - 1];
    s.saveSnapshot({ lastIndex: at, lastTerm, peers: ['a', 'b', 'c'], data: entryBytes(at, lastTerm, 40) }, true);
    terms.splice(0, at - base);
    base = at;
    snap = [at, lastTerm];
  } else {
    batch = Array.from({ length: 1 + int(20) }, () => term);
  }
  if (batch.length > 0) {
    s.writeEntries(from, batch.map((t, i) => ({ term: t, type: 0, data: entryBytes(from + i, t) })));
    terms.length = from - base - 1;
    terms.push(...batch);
  }
  s.sync();
  process.send({ t: 'synced', term, vote, from, terms: batch, snap });
  // Let the IPC channel drain now and then.
  if (int(8) === 0) await new Promise((r) => setImmediate(r));
}
