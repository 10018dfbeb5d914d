/**
 * The house's rules, checked from the imports of every file under src/ (type-only imports
 * included): each folder imports only from the floors below it, and no files import each other
 * in a circle. ARCHITECTURE.md explains the floors.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Floors, ground first: a folder may import from lower floors (and from itself) only. */
const FLOORS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  protocol: 0,
  subject: 0,
  io: 1,
  auth: 1,
  raft: 1,
  config: 2,
  raftstore: 2,
  broker: 3,
  cluster: 4,
  leaf: 4,
  gateway: 4,
  jetstream: 4,
  monitor: 5,
  server: 6,
  backend: 7,
  harness: 8,
  cli: 9,
  testing: 9,
  'index.ts': 10,
};

/** Runtime modules nothing below the edge may touch: sockets and processes. */
const IO_MODULES = /^node:(net|tls|http|dgram|child_process)$/;

function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(SRC, path));
  }
  return out.sort();
}

/** Every module a file imports or re-exports (static and dynamic, type-only included). */
function specifiers(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/** The src-relative file a relative specifier names. */
function resolve(file: string, spec: string): string {
  return normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
}

/** The floor name of a src-relative file: its top folder, or the file itself at the top. */
function room(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

const FILES = sourceFiles();
const EDGES = new Map<string, string[]>(
  FILES.map((f) => [f, specifiers(f).filter((s) => s.startsWith('.')).map((s) => resolve(f, s))]),
);

describe('module boundaries', () => {
  it('every folder of src/ has a floor', () => {
    const rooms = [...new Set(FILES.map(room))];
    expect(rooms.filter((r) => FLOORS[r] === undefined)).toEqual([]);
    // Every import names a file that exists.
    const missing = [...EDGES].flatMap(([f, deps]) => deps.filter((d) => !FILES.includes(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('each folder imports only from lower floors', () => {
    const upward: string[] = [];
    for (const [file, deps] of EDGES) {
      for (const dep of deps) {
        const from = room(file);
        const to = room(dep);
        if (from !== to && FLOORS[to] >= FLOORS[from]) upward.push(`${file} -> ${dep}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no import cycles between files (type-only imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of EDGES.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of FILES) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the ground floor (subject/, protocol/, errors) is pure: no sockets, no processes', () => {
    const offending = FILES.filter((f) => FLOORS[room(f)] === 0).flatMap((f) => specifiers(f).filter((s) => IO_MODULES.test(s)).map((s) => `${f}: ${s}`));
    expect(offending).toEqual([]);
  });

  it('the Raft core (raft/) is driven from outside: no sockets, processes, timers or clock of its own', () => {
    const offending = FILES.filter((f) => room(f) === 'raft').flatMap((f) => {
      const text = readFileSync(join(SRC, f), 'utf8');
      const io = specifiers(f).filter((s) => IO_MODULES.test(s) || s.startsWith('node:'));
      const clocks = [...text.matchAll(/\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|process\.hrtime)\b/g)].map((m) => m[1]);
      return [...io, ...clocks].map((s) => `${f}: ${s}`);
    });
    expect(offending).toEqual([]);
  });

  it('the Raft storage (raftstore/) touches only files: no sockets, processes, timers or clock', () => {
    const offending = FILES.filter((f) => room(f) === 'raftstore').flatMap((f) => {
      const text = readFileSync(join(SRC, f), 'utf8');
      const io = specifiers(f).filter((s) => s.startsWith('node:') && !/^node:(fs|path|zlib)$/.test(s));
      const clocks = [...text.matchAll(/\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|process\.hrtime)\b/g)].map((m) => m[1]);
      return [...io, ...clocks].map((s) => `${f}: ${s}`);
    });
    expect(offending).toEqual([]);
  });
});
