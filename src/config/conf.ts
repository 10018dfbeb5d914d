/**
 * A parser for nats-server's configuration format (`nats-server -c file.conf`). No maintained
 * npm library reads this format, so it is implemented here, following the rules of
 * nats-server's `conf/lex.go` and `conf/parse.go`:
 *
 * - `key: value`, `key = value` and `key value`; keys are case-sensitive here (the option
 *   mapping lower-cases them, as nats-server does); quoted keys allowed (taken as written:
 *   escapes are for values only);
 * - values: `"double"` (escapes `\t \n \r \" \\ \xHH`) and `'single'` quoted strings, bare
 *   strings, `( block strings )` ending with `)` alone on a line, booleans
 *   (`true/false/yes/no/on/off`), integers with size suffixes (`1k` = 1000, `1kb`/`1ki` = 1024,
 *   up to `e`/`eb`), floats, arrays `[a, b]` (commas or new lines), maps `{ k: v }`;
 * - `#` and `//` comments; an optional `{ ... }` around the whole file;
 * - `$NAME` variables, looked up in the enclosing maps (keys defined earlier) and then in the
 *   environment (whose value is parsed as a config value); `include <path>` relative to the
 *   including file. A key that a variable reference used is recorded (`usedVariables`): the
 *   option mapping lets such keys be, as nats-server's `IsUsedVariable()` does, instead of
 *   calling them unknown. A bare `$2a$...` is a bcrypt hash, not a variable (nats-server's
 *   `bcryptPrefix`).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';

/** A parsed configuration value. */
export type ConfValue = string | number | boolean | Date | ConfValue[] | ConfMap;
/** A parsed map (block); keys keep their case. */
export interface ConfMap {
  [key: string]: ConfValue;
}

/** Where each key was defined, for error messages: `path.to.key` → "file:line:col". */
export type ConfPositions = Map<string, string>;

export interface ParsedConf {
  readonly values: ConfMap;
  readonly positions: ConfPositions;
  /** Paths (as in `positions`) of the keys that a `$variable` reference resolved to. */
  readonly usedVariables: ReadonlySet<string>;
}

interface Options {
  file: string;
  env: NodeJS.ProcessEnv;
  /** Files being included, to refuse include cycles. */
  including: readonly string[];
}

/** Parses config text. `file` names it in errors and anchors `include` paths. */
export function parseConf(text: string, file = '<config>', env: NodeJS.ProcessEnv = process.env): ParsedConf {
  const parser = new ConfParser(text, { file, env, including: [file] });
  return parser.parseTop();
}

/** Reads and parses a config file. */
export function parseConfFile(path: string, env: NodeJS.ProcessEnv = process.env): ParsedConf {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseConf(text, path, env);
}

const BOOL: Readonly<Record<string, boolean>> = { true: true, yes: true, on: true, false: false, no: false, off: false };

const SUFFIX: Readonly<Record<string, number>> = {
  k: 1e3, kb: 1024, ki: 1024, kib: 1024,
  m: 1e6, mb: 1024 ** 2, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1024 ** 3, gi: 1024 ** 3, gib: 1024 ** 3,
  t: 1e12, tb: 1024 ** 4, ti: 1024 ** 4, tib: 1024 ** 4,
  p: 1e15, pb: 1024 ** 5, pi: 1024 ** 5, pib: 1024 ** 5,
  e: 1e18, eb: 1024 ** 6, ei: 1024 ** 6, eib: 1024 ** 6,
};

/** Characters that end a bare (unquoted) value. */
const BARE_END = new Set(['\n', '\r', ';', ',', ']', '}', ' ', '\t']);

class ConfParser {
  private pos = 0;
  /** Maps being built, innermost last, with their paths: variable lookup walks them outwards. */
  private readonly scopes: Array<{ map: ConfMap; path: string }> = [];
  private readonly positions: ConfPositions = new Map();
  private readonly usedVariables = new Set<string>();
  private readonly path: string[] = [];

  constructor(
    private readonly text: string,
    private readonly opts: Options,
  ) {}

  parseTop(): ParsedConf {
    const root: ConfMap = {};
    this.scopes.push({ map: root, path: '' });
    this.skipSpaceAndComments(true);
    // The whole file may be wrapped in braces.
    let wrapped = false;
    if (this.peek() === '{') {
      wrapped = true;
      this.pos++;
    }
    this.parseEntries(root, wrapped ? '}' : null);
    if (wrapped) this.pos++;
    this.skipSpaceAndComments(true);
    if (this.pos < this.text.length) this.fail(`unexpected '${this.peek()}'`);
    return { values: root, positions: this.positions, usedVariables: this.usedVariables };
  }

  // ---- Entries ------------------------------------------------------------------------------

  /** Parses `key value` lines into `map` until `end` (or EOF when `end` is null). */
  private parseEntries(map: ConfMap, end: '}' | null): void {
    for (;;) {
      this.skipSpaceAndComments(true);
      while (this.peek() === ',' || this.peek() === ';') {
        this.pos++;
        this.skipSpaceAndComments(true);
      }
      const c = this.peek();
      if (c === undefined) {
        if (end !== null) this.fail(`missing '${end}'`);
        return;
      }
      if (end !== null && c === end) return;
      if (c === '}' || c === ']') this.fail(`unexpected '${c}'`);
      const keyAt = this.where();
      const key = this.parseKey();
      if (key === 'include' && (this.peek() === ' ' || this.peek() === '\t')) {
        this.skipBlanks();
        this.include(map, this.parseIncludePath());
        this.endOfValue(end);
        continue;
      }
      this.skipBlanks();
      if (this.peek() === '=' || this.peek() === ':') {
        this.pos++;
        this.skipBlanks();
      }
      this.path.push(key);
      const value = this.parseValue();
      this.positions.set(this.path.join('.'), keyAt);
      this.path.pop();
      map[key] = value;
      this.endOfValue(end);
    }
  }

  /** After a value: blanks and a comment, then a new line, `;`, `,`, EOF or the closing brace. */
  private endOfValue(end: '}' | null): void {
    this.skipBlanks();
    this.skipComment();
    const c = this.peek();
    if (c === undefined || c === '\n' || c === '\r' || c === ';' || c === ',') return;
    if (end !== null && c === end) return;
    this.fail(`expected a new line after the value, got '${c}'`);
  }

  private parseKey(): string {
    const c = this.peek();
    // As lex.go's lexDubQuotedKey/lexQuotedKey: a quoted key is the text between the quotes,
    // without escapes.
    if (c === '"' || c === "'") return this.parseQuoted(c, false);
    const start = this.pos;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '=' || ch === ':') break;
      if (ch === '{' || ch === '[') break;
      this.pos++;
    }
    if (this.pos === start) this.fail('expected a key');
    return this.text.slice(start, this.pos);
  }

  private parseIncludePath(): string {
    const c = this.peek();
    if (c === '"' || c === "'") return this.parseQuoted(c);
    const start = this.pos;
    while (this.pos < this.text.length && !BARE_END.has(this.text[this.pos])) this.pos++;
    if (this.pos === start) this.fail('include needs a file name');
    return this.text.slice(start, this.pos);
  }

  private include(map: ConfMap, rel: string): void {
    const base = this.opts.file.startsWith('<') ? process.cwd() : dirname(this.opts.file);
    const file = resolvePath(base, rel);
    if (this.opts.including.includes(file)) this.fail(`include cycle: ${file}`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      this.fail(`cannot include ${rel}: ${(err as Error).message}`);
    }
    const inner = new ConfParser(text, { ...this.opts, file, including: [...this.opts.including, file] });
    const parsed = inner.parseTop();
    for (const [k, v] of Object.entries(parsed.values)) map[k] = v;
    const prefix = this.path.length > 0 ? `${this.path.join('.')}.` : '';
    for (const [k, at] of parsed.positions) this.positions.set(prefix + k, at);
    for (const k of parsed.usedVariables) this.usedVariables.add(prefix + k);
  }

  // ---- Values -------------------------------------------------------------------------------

  private parseValue(): ConfValue {
    const c = this.peek();
    switch (c) {
      case undefined:
      case '\n':
      case '\r':
        return this.fail('expected a value');
      case '[':
        return this.parseArray();
      case '{':
        return this.parseMap();
      case '"':
      case "'":
        return this.parseQuoted(c);
      case '(':
        return this.parseBlock();
      default:
        return this.parseBare();
    }
  }

  private parseArray(): ConfValue[] {
    this.pos++; // [
    const out: ConfValue[] = [];
    for (;;) {
      this.skipSpaceAndComments(true);
      const c = this.peek();
      if (c === undefined) this.fail("missing ']'");
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c === ',') this.fail("unexpected ','");
      this.path.push(String(out.length));
      out.push(this.parseValue());
      this.path.pop();
      this.skipSpaceAndComments(false);
      const next = this.peek();
      if (next === ',') this.pos++;
      else if (next === ']' || next === '\n' || next === '\r') continue;
      else if (next === undefined) this.fail("missing ']'");
      else this.fail(`expected ',' or ']' in array, got '${next}'`);
    }
  }

  private parseMap(): ConfMap {
    this.pos++; // {
    const map: ConfMap = {};
    this.scopes.push({ map, path: this.path.join('.') });
    this.parseEntries(map, '}');
    this.scopes.pop();
    this.pos++; // }
    return map;
  }

  /** A quoted string; `escapes` in double quotes (values), never in single quotes. */
  private parseQuoted(quote: '"' | "'", escapes = quote === '"'): string {
    const at = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) {
        this.pos = at;
        return this.fail('unterminated string');
      }
      this.pos++;
      if (c === quote) return out;
      if (c === '\\' && escapes) out += this.parseEscape();
      else out += c;
    }
  }

  private parseEscape(): string {
    const c = this.text[this.pos++];
    switch (c) {
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case '"': return '"';
      case '\\': return '\\';
      case 'x': {
        const hex = this.text.slice(this.pos, this.pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail(`expected two hexadecimal digits after '\\x', got '${hex}'`);
        this.pos += 2;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        this.pos--;
        return this.fail(`invalid escape '\\${c ?? ''}' (allowed: \\xXX, \\t, \\n, \\r, \\", \\\\)`);
    }
  }

  /** `( ... )` with the closing parenthesis alone on its own line. */
  private parseBlock(): string {
    const at = this.pos;
    this.pos++;
    const close = this.text.slice(this.pos).search(/\n[ \t]*\)[ \t]*(\r?\n|$)/);
    if (close === -1) {
      this.pos = at;
      return this.fail('unterminated block string (the closing ")" must be alone on a line)');
    }
    const body = this.text.slice(this.pos, this.pos + close);
    this.pos += close + 1;
    while (this.text[this.pos] !== ')') this.pos++;
    this.pos++;
    return body;
  }

  /** Numbers (with suffixes), IP-ish strings, booleans, variables and bare strings. */
  private parseBare(): ConfValue {
    const at = this.pos;
    let end = this.pos;
    let escaped = false;
    let raw = '';
    while (end < this.text.length && !BARE_END.has(this.text[end])) {
      if (this.text[end] === '\\') {
        this.pos = end + 1;
        raw += this.parseEscape();
        end = this.pos;
        escaped = true;
        continue;
      }
      raw += this.text[end];
      end++;
    }
    this.pos = end;
    if (escaped) return raw;
    const word = raw;
    if (/^-?\d/.test(word)) return this.number(word, at);
    if (word.startsWith('.') && /^\.\d/.test(word)) {
      this.pos = at;
      return this.fail('floats must start with a digit');
    }
    const lower = word.toLowerCase();
    if (lower in BOOL) return BOOL[lower];
    if (word.startsWith('$') && word.length > 1) return this.variable(word.slice(1), at);
    return word;
  }

  private number(word: string, at: number): ConfValue {
    const m = /^(-?\d+)([a-zA-Z]*)$/.exec(word);
    if (m !== null) {
      const suffix = m[2].toLowerCase();
      if (suffix === '') return this.integer(m[1], 1, at);
      if (suffix in SUFFIX) return this.integer(m[1], SUFFIX[suffix], at);
      return word; // e.g. 4222abc: a string that starts with digits
    }
    if (/^-?\d+\.\d+$/.test(word)) return Number(word);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(word)) return new Date(word);
    if (/^\d+\.\d+\.[\d.:-]*$/.test(word)) return word; // IP address, e.g. 127.0.0.1:4222
    if (word.startsWith('-')) {
      this.pos = at;
      return this.fail(`invalid number '${word}'`);
    }
    return word;
  }

  private integer(digits: string, scale: number, at: number): number {
    const n = BigInt(digits) * BigInt(scale);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
      this.pos = at;
      return this.fail(`integer '${digits}' is out of range`);
    }
    return Number(n);
  }

  private variable(name: string, at: number): ConfValue {
    // An unquoted bcrypt hash ($2a$11$...) reads as a variable reference; it is the string.
    if (name.startsWith('2a$')) return `$${name}`;
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const { map, path } = this.scopes[i];
      // Own keys only: a key named like an Object.prototype member is not a variable.
      if (Object.hasOwn(map, name)) {
        this.usedVariables.add(path === '' ? name : `${path}.${name}`);
        return map[name];
      }
    }
    const env = Object.hasOwn(this.opts.env, name) ? this.opts.env[name] : undefined;
    if (env !== undefined) {
      // An environment value is parsed as a config value would be.
      const parsed = new ConfParser(`v=${env}`, { ...this.opts, file: `$${name}` }).parseTop();
      return parsed.values.v;
    }
    this.pos = at;
    return this.fail(`variable reference for '${name}' can not be found`);
  }

  // ---- Lexing helpers -----------------------------------------------------------------------

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private skipComment(): boolean {
    const c = this.peek();
    if (c === '#' || (c === '/' && this.text[this.pos + 1] === '/')) {
      while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      return true;
    }
    return false;
  }

  private skipSpaceAndComments(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) this.pos++;
      else if (!this.skipComment()) return;
    }
  }

  /** "file:line:col" of the current position. */
  private where(pos = this.pos): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < pos && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return `${this.opts.file}:${line}:${pos - lineStart + 1}`;
  }

  private fail(reason: string): never {
    throw new ConfigError('config', `${this.where()}: ${reason}`);
  }
}
