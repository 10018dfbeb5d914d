// Node's Buffer has latin1 fast paths that @types/node does not declare. They are what
// `buf.toString('latin1', s, e)` and `buf.write(str, off, 'latin1')` call underneath,
// minus the argument juggling; the hot paths (parser, MSG encoding) use them directly.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(text: string, offset?: number, length?: number): number;
  }
}
export {};
