/**
 * Which servers a stream's replicas go to: nats-server's selectPeerGroup (jetstream_cluster.go)
 * over the servers the meta leader may place on, with their tags. Pure, so that it can be
 * tested against a model.
 *
 * A server qualifies when it is not tagged `!jetstream`, holds every tag of the stream's
 * `placement.tags` (compared in lower case, as jwt.TagList does) and, with a `unique_tag`
 * prefix, carries a tag with that prefix no server chosen before it carries. Servers the group
 * keeps (`existing`) come first and are not checked again; a server being replaced (`ignore`)
 * is not chosen.
 */

/** nats-server's jsExcludePlacement: a server with this tag gets no new replica. */
export const EXCLUDE_PLACEMENT_TAG = '!jetstream';

export interface PeerCandidate {
  readonly name: string;
  /** Its tags, lower case; undefined while unknown (treated as none). */
  readonly tags: readonly string[] | undefined;
  /** Known to be down: not chosen (the error then says "peer offline"). */
  readonly offline: boolean;
}

export interface PeerSelection {
  /** How many replicas. */
  readonly replicas: number;
  /** `placement.tags`, as the client wrote them. */
  readonly tags: readonly string[];
  /** The jetstream `unique_tag` prefix, lower case ('' for none). */
  readonly uniqueTag: string;
  /** Peers the group keeps, in order (they lead the result). */
  readonly existing?: readonly string[];
  /** Peers not to choose (the one being replaced). */
  readonly ignore?: readonly string[];
}

/**
 * The peers: `existing` first, then qualifying candidates in the order given (the caller puts
 * its preferred leader first and shuffles the rest). Or the text of nats-server's
 * selectPeerError: "no suitable peers for placement" with its reasons.
 */
export function selectPeers(candidates: readonly PeerCandidate[], req: PeerSelection): { peers: string[] } | { error: string } {
  const existing = req.existing ?? [];
  if (existing.length >= req.replicas) return { peers: existing.slice(0, req.replicas) };
  const wanted = req.tags.map((t) => t.trim().toLowerCase());
  // Listing a tag with the unique prefix in placement.tags turns the uniqueness check off.
  const unique = req.uniqueTag !== '' && !wanted.some((t) => t.startsWith(req.uniqueTag)) ? req.uniqueTag : '';
  const taken = new Set<string>();
  if (unique !== '') {
    // The peers kept hold their unique tags already (not required of them).
    for (const p of existing) {
      const t = candidates.find((c) => c.name === p)?.tags?.find((x) => x.startsWith(unique));
      if (t !== undefined) taken.add(t);
    }
  }
  const flags = { offline: false, excludeTag: false, uniqueTag: false };
  const missing = new Set<string>();
  const chosen: string[] = [];
  const need = req.replicas - existing.length;
  for (const c of candidates) {
    if (c.offline) {
      flags.offline = true;
      continue;
    }
    if (req.ignore?.includes(c.name) === true || existing.includes(c.name)) continue;
    const tags = c.tags ?? [];
    if (tags.includes(EXCLUDE_PLACEMENT_TAG)) {
      flags.excludeTag = true;
      continue;
    }
    // The first tag asked for that the server lacks is the one the error names.
    const lacking = req.tags.find((t, i) => !tags.includes(wanted[i]!));
    if (lacking !== undefined) {
      missing.add(lacking);
      continue;
    }
    if (unique !== '') {
      const t = tags.find((x) => x.startsWith(unique));
      if (t === undefined || taken.has(t)) {
        flags.uniqueTag = true;
        continue;
      }
      taken.add(t);
    }
    chosen.push(c.name);
  }
  if (chosen.length < need) return { error: placementErrorText(flags, missing) };
  return { peers: [...existing, ...chosen.slice(0, need)] };
}

/** selectPeerError.Error(): the base text, the reasons seen, then the tags no server matched. */
function placementErrorText(flags: { offline: boolean; excludeTag: boolean; uniqueTag: boolean }, missing: ReadonlySet<string>): string {
  let text = 'no suitable peers for placement';
  if (flags.offline) text += ', peer offline';
  if (flags.excludeTag) text += ', exclude tag set';
  if (flags.uniqueTag) text += ', server tag not unique';
  if (missing.size > 0) text += `, tags not matched [${[...missing].map((t) => `'${t}'`).join(', ')}]`;
  return text;
}
