/**
 * Request sessions of the `server.jetstream` helpers (see `ServerBackend.openSession`): the
 * bookkeeping both backends share (an inbox, pending replies with their timeouts), the embedded
 * one (an internal client in the account), and the choice of credentials for a nats-server
 * process (the session itself, a client connection, is in `api-client.ts`).
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import { GLOBAL_ACCOUNT } from '../broker/account.js';
import type { BrokerCore } from '../broker/core.js';
import type { ResolvedOptions } from '../config/options.js';
import type { RequestSession, SessionReply } from '../server/backend.js';
import { subjectFromText } from '../protocol/text.js';

/** The status code of a header block's first line (`NATS/1.0 503`), or 0. */
export function headerStatus(block: Buffer | null): number {
  if (block === null || block.length < 12) return 0;
  const line = block.subarray(0, Math.min(block.length, 32)).toString('latin1');
  const m = /^NATS\/1\.0 (\d{3})/.exec(line);
  return m === null ? 0 : Number(m[1]);
}

/** Pending requests by reply token, each with its timer. */
export class PendingReplies {
  /** The inbox prefix; replies come on `<prefix>.<token>`. */
  readonly prefix = `_INBOX.${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  private next = 1;
  private readonly pending = new Map<string, { subject: string; resolve(r: SessionReply): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  closed = false;

  /** A new reply subject and the promise of its reply. */
  add(what: string, timeoutMs: number): { reply: string; promise: Promise<SessionReply> } {
    const token = String(this.next++);
    const promise = new Promise<SessionReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new WaitTimeoutError(`a reply to ${what}`, timeoutMs));
      }, timeoutMs);
      timer.unref();
      this.pending.set(token, { subject: what, resolve, reject, timer });
    });
    return { reply: `${this.prefix}.${token}`, promise };
  }

  /** A reply arrived on `subject`. */
  settle(subject: string, data: Buffer, headers: Buffer | null): void {
    const token = subject.slice(this.prefix.length + 1);
    const p = this.pending.get(token);
    if (p === undefined) return;
    this.pending.delete(token);
    clearTimeout(p.timer);
    p.resolve({ data: Buffer.from(data), status: headerStatus(headers) });
  }

  /** Rejects the pending requests to `subject` (all of them when null) with `err`; the session goes on. */
  fail(subject: string | null, err: Error): void {
    for (const [token, p] of this.pending) {
      if (subject !== null && p.subject !== subject) continue;
      this.pending.delete(token);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** Rejects every pending request with `err`; later `add()`s should not be made. */
  failAll(err: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/** Checks that `account` is `$G` or a configured account; returns its name. */
export function accountName(options: ResolvedOptions, account: string | undefined): string {
  const name = account ?? GLOBAL_ACCOUNT;
  if (name !== GLOBAL_ACCOUNT && !options.accountNames.includes(name)) {
    throw new InvalidArgumentError('account', `no account "${name}" is configured`);
  }
  return name;
}

/**
 * Refuses a subject that would break a PUB line or that no client could publish: the helpers
 * check theirs before, this is the last guard.
 */
export function checkRequestSubject(subject: string): void {
  if (subject === '' || /[\s\x00-\x1f\x7f]/.test(subject)) throw new InvalidArgumentError('subject', `invalid subject ${JSON.stringify(subject)}`);
}

/** An embedded request session; `fail()` is how the broker's stop rejects what is pending. */
export interface InternalSession extends RequestSession {
  /** Rejects every pending request with `err` and closes the session. */
  fail(err: Error): void;
}

/** A session of an internal client of the embedded broker in `account`. */
export function internalSession(core: BrokerCore, options: ResolvedOptions, account: string | undefined, onClose?: () => void): InternalSession {
  const name = accountName(options, account);
  const acc = core.account(name);
  const client = core.internalClient('$JS test helper', acc);
  const pending = new PendingReplies();
  client.subscribe(`${pending.prefix}.*`, (msg) => {
    pending.settle(msg.subject, msg.data, msg.headers);
  });
  const fail = (err: Error): void => {
    pending.failAll(err);
    client.close();
    onClose?.();
  };
  return {
    get maxPayload() {
      return core.options.maxPayload;
    },
    request(subject, data, headers, timeoutMs) {
      if (pending.closed || client.closed) return Promise.reject(new ServerClosedError(`send ${subject}`, 'the server is not running'));
      try {
        checkRequestSubject(subject);
      } catch (err) {
        return Promise.reject(err);
      }
      // The subject as the wire's bytes (protocol/text.ts), as a client would send it.
      const wire = subjectFromText(subject);
      // An internal requester gets no "no responders" status from the router: the same answer here.
      const m = acc.sublist.match(wire);
      if (m.psubs.length === 0 && m.qsubs.length === 0) return Promise.resolve({ data: Buffer.alloc(0), status: 503 });
      const { reply, promise } = pending.add(subject, timeoutMs);
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      // UTF-8, as the clients write header values.
      client.publish(wire, buf, { reply, headers: headers === null ? null : Buffer.from(headers, 'utf8') });
      return promise;
    },
    fail,
    close() {
      fail(new ServerClosedError('finish a JetStream request', 'the session was closed'));
    },
  };
}

/** The CONNECT credentials of a client session, or null when none are needed. */
export interface SessionCredentials {
  readonly user?: string;
  readonly pass?: string;
  readonly auth_token?: string;
}

/** A bcrypt hash (`$2a$...`) cannot be sent back as a password. */
function plain(password: string | null | undefined): password is string {
  return typeof password === 'string' && !/^\$2[abxy]?\$/.test(password);
}

/**
 * How a helper's client gets into `account` on a nats-server process: without credentials when
 * there is no authentication (or the no-auth user, without permissions, is in that account), else
 * as a user of the account that has a plain-text password, one without permissions first (a
 * restricted user would be refused the `$JS.API` requests or the reply inbox); or the token /
 * single user of `$G`.
 */
export function credentialsFor(options: ResolvedOptions, account: string | undefined, feature: string): SessionCredentials | null {
  const name = accountName(options, account);
  const auth = options.auth;
  if (auth === null) {
    // No way to log into another account than $G: never act on $G in its place.
    if (name !== GLOBAL_ACCOUNT) throw new UnsupportedError(feature, 'nats-server', `account "${name}" has no user to connect as`);
    return null;
  }
  if (auth.noAuthUser !== null) {
    const u = auth.users.find((x) => x.user === auth.noAuthUser);
    if (u !== undefined && u.account === name && u.permissions === null) return null;
  }
  if (name === GLOBAL_ACCOUNT) {
    if (auth.token !== null) return { auth_token: auth.token };
    if (auth.user !== null && plain(auth.password)) return { user: auth.user, pass: auth.password };
  }
  const usable = auth.users.filter((x) => x.account === name && x.user !== undefined && plain(x.password));
  const u = usable.find((x) => x.permissions === null) ?? usable[0];
  if (u?.user !== undefined && u.password !== undefined) return { user: u.user, pass: u.password };
  throw new UnsupportedError(feature, 'nats-server', `account "${name}" has no user with a plain-text password to connect as`);
}
