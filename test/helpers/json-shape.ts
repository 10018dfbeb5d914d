/** Comparing the shape (keys and JSON types) of two JSON documents, for conformance tests. */

export type Json = Record<string, unknown>;

/** The JSON type of a value: `null`, `array`, or its `typeof`. */
export function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Records key and type differences between `ours` and `theirs` under `where`, one level deep:
 * `<where>.<key>` for a key on one side only, `<where>.<key> (type)` for a different JSON type.
 */
export function compare(where: string, ours: unknown, theirs: unknown, out: string[]): void {
  if (kind(ours) !== 'object' || kind(theirs) !== 'object') {
    out.push(`${where}: expected objects on both sides, got ${kind(ours)} here and ${kind(theirs)} in nats-server`);
    return;
  }
  const a = ours as Json;
  const b = theirs as Json;
  for (const key of Object.keys(a)) {
    if (!(key in b)) out.push(`${where}.${key}`);
    else if (kind(a[key]) !== kind(b[key])) out.push(`${where}.${key} (type)`);
  }
  for (const key of Object.keys(b)) if (!(key in a)) out.push(`${where}.${key}`);
}
