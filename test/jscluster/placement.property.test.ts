/**
 * selectPeers (placement.ts) against a model of nats-server's selectPeerGroup rules, over random
 * clusters of tagged servers: it places exactly when enough servers qualify, only on qualifying
 * servers, one per unique tag value, keeping the existing peers; and its error names the
 * reasons and the tags nobody matched.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EXCLUDE_PLACEMENT_TAG, selectPeers, type PeerCandidate } from '../../src/jetstream/cluster/placement.js';

const TAGS = ['ssd', 'hdd', 'az:1', 'az:2', 'az:3', EXCLUDE_PLACEMENT_TAG];

const candidateArb = fc.record({
  tags: fc.option(fc.subarray(TAGS), { nil: undefined }),
  offline: fc.boolean(),
});

const caseArb = fc.record({
  servers: fc.array(candidateArb, { minLength: 1, maxLength: 7 }),
  // Asked for as a client might write them (upper case, spaces).
  wanted: fc.subarray(['ssd', 'HDD', ' az:2', 'az:1']),
  unique: fc.constantFrom('', 'az:'),
  replicas: fc.integer({ min: 1, max: 5 }),
  existing: fc.integer({ min: 0, max: 2 }),
});

describe('placement: selectPeers against a model', () => {
  it('places exactly on qualifying servers, as many as asked', () => {
    fc.assert(fc.property(caseArb, ({ servers, wanted, unique, replicas, existing }) => {
      const candidates: PeerCandidate[] = servers.map((s, i) => ({ name: `s${i}`, tags: s.tags, offline: s.offline }));
      const kept = candidates.filter((c) => !c.offline).slice(0, Math.min(existing, replicas - 1)).map((c) => c.name);
      const r = selectPeers(candidates, { replicas, tags: wanted, uniqueTag: unique, existing: kept });

      // The model: a server qualifies when online, not kept already, not excluded, holding every
      // tag asked for (lower case, trimmed); unique tags are taken first come, first served.
      const asked = wanted.map((t) => t.trim().toLowerCase());
      const uniq = unique !== '' && !asked.some((t) => t.startsWith(unique)) ? unique : '';
      const taken = new Set(kept.flatMap((k) => candidates.find((c) => c.name === k)!.tags?.filter((t) => uniq !== '' && t.startsWith(uniq)).slice(0, 1) ?? []));
      const qualifying: string[] = [];
      for (const c of candidates) {
        const tags = c.tags ?? [];
        if (c.offline || kept.includes(c.name) || tags.includes(EXCLUDE_PLACEMENT_TAG) || !asked.every((t) => tags.includes(t))) continue;
        if (uniq !== '') {
          const t = tags.find((x) => x.startsWith(uniq));
          if (t === undefined || taken.has(t)) continue;
          taken.add(t);
        }
        qualifying.push(c.name);
      }
      const need = replicas - kept.length;
      if (qualifying.length < need) {
        expect(r).toHaveProperty('error');
        const text = (r as { error: string }).error;
        expect(text.startsWith('no suitable peers for placement')).toBe(true);
        expect(text.includes('peer offline')).toBe(candidates.some((c) => c.offline));
        // Every tag named was asked for and is missing on some online server.
        const named = /tags not matched \[(.*)\]$/.exec(text)?.[1]?.split(', ').map((t) => t.slice(1, -1)) ?? [];
        for (const t of named) expect(wanted).toContain(t);
        return;
      }
      expect(r).toEqual({ peers: [...kept, ...qualifying.slice(0, need)] });
    }), { numRuns: 500 });
  });

  it('a group that has its peers already keeps them as they are', () => {
    const c: PeerCandidate[] = [{ name: 'a', tags: ['hdd'], offline: false }];
    expect(selectPeers(c, { replicas: 2, tags: ['ssd'], uniqueTag: '', existing: ['x', 'y', 'z'] })).toEqual({ peers: ['x', 'y'] });
  });

  it('the error lists every reason seen, in nats-server order', () => {
    const c: PeerCandidate[] = [
      { name: 'down', tags: ['ssd'], offline: true },
      { name: 'excluded', tags: [EXCLUDE_PLACEMENT_TAG, 'ssd'], offline: false },
      { name: 'az1', tags: ['az:1', 'ssd'], offline: false },
      { name: 'az1b', tags: ['az:1', 'ssd'], offline: false },
      { name: 'hdd', tags: ['az:2', 'hdd'], offline: false },
    ];
    expect(selectPeers(c, { replicas: 3, tags: ['SSD'], uniqueTag: 'az:' })).toEqual({
      error: "no suitable peers for placement, peer offline, exclude tag set, server tag not unique, tags not matched ['SSD']",
    });
  });
});
