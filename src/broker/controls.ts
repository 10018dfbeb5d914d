/**
 * What the test controls of a `NatsServer` handle (fault injection, message taps, waiters) and
 * the callbacks into user code share with the broker core. The handle owns one `TestControls`
 * for its whole life and gives it to every core it runs, so taps, drop rules, latency, pause
 * and pending waits survive `restart()`. Every check on the hot path is one null or boolean
 * test while nothing is set.
 */
import { subjectMatches } from '../subject/subject.js';
import type { PubArg } from '../protocol/parser.js';
import { subjectToText } from '../protocol/text.js';

/** A message seen by `NatsServer.messages()` / `onMessage()`. */
export interface TappedMessage {
  readonly subject: string;
  readonly reply: string | null;
  /** The raw header block (`NATS/1.0\r\n...`), or null without headers. */
  readonly headers: Buffer | null;
  readonly data: Buffer;
  /** The publishing client's id, or null for a message that came from another server. */
  readonly publisherCid: number | null;
}

/** A `dropMessages()` rule. */
export interface DropRule {
  readonly subject: string;
  readonly ratio: number;
  /** Messages still to drop for a count rule; null for a ratio rule. */
  remaining: number | null;
  dropped: number;
}

/**
 * Where the broker reports what is not a client's fault: an exception thrown by user code it
 * called (a tap, an event listener, the logger), and a bug of its own caught while serving a
 * connection. Neither may cost another client anything.
 */
export interface FaultSink {
  /** User code threw: the error must reach the test runner (see `NatsServer` 'error'). */
  userError(err: unknown): void;
  /** The broker caught an error of its own; `what` says what it was doing and what it did about it. */
  internalError(err: unknown, what: string): void;
}

/** A sink that rethrows user errors asynchronously and counts nothing (a core used alone). */
export const DEFAULT_FAULT_SINK: FaultSink = {
  userError: (err) => rethrowAsync(err),
  internalError: (err, what) => warnInternal(err, what),
};

/** Throws `err` outside the broker's call stack: it becomes an uncaught exception. */
export function rethrowAsync(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

/** The process warning printed for an internal error (`what`: e.g. `closed client 5`). */
export function warnInternal(err: unknown, what: string): void {
  process.emitWarning(`nats-embedded: internal error (${what}): ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
}

/** Test controls of one handle, read by its current core. */
export class TestControls {
  /** `pause()`: nothing is read or written until `resume()`. */
  paused = false;
  /** `setLatency()`: writes to clients are delayed by this many ms (0 = off). */
  latencyMs = 0;
  /** `dropMessages()` rules, or null when there are none. */
  drops: DropRule[] | null = null;
  /** Message taps, or null when nobody listens. */
  taps: Set<(msg: TappedMessage) => void> | null = null;
  /** Called after subscriptions or connections change, while somebody waits for that. */
  readonly changeWaiters = new Set<() => void>();
  /** Internal errors caught since the handle was created (restarts included). */
  internalErrors = 0;

  /** Runs the change waiters (a subscription or a connection came or went). */
  notifyChange(): void {
    if (this.changeWaiters.size === 0) return;
    for (const w of [...this.changeWaiters]) w();
  }

  /**
   * Shows a routed message (payload `buf[start, end)`, published by client `publisherCid`, null
   * from a route) to every tap. A tap is user code: what it throws goes to `onError` (the test
   * runner), never to the publisher.
   */
  tap(publisherCid: number | null, pa: PubArg, buf: Buffer, start: number, end: number, onError: (err: unknown) => void): void {
    const hdr = pa.hdr > 0 ? pa.hdr : 0;
    // Subjects as text for the test's code (the wire's bytes, decoded as protocol/text.ts says).
    const msg: TappedMessage = {
      subject: subjectToText(pa.subject),
      reply: pa.reply.length > 0 ? subjectToText(pa.reply) : null,
      headers: hdr > 0 ? Buffer.from(buf.subarray(start, start + hdr)) : null,
      data: Buffer.from(buf.subarray(start + hdr, end)),
      publisherCid,
    };
    for (const t of this.taps!) {
      try {
        t(msg);
      } catch (err) {
        onError(err);
      }
    }
  }

  /** Applies the drop rules to a message on `subject`: true when it is lost. */
  dropped(subject: string, random: () => number): boolean {
    for (const rule of this.drops!) {
      if (!subjectMatches(rule.subject, subject)) continue;
      if (rule.remaining !== null) {
        if (rule.remaining <= 0) continue;
        rule.remaining--;
        rule.dropped++;
        return true;
      }
      if (random() < rule.ratio) {
        rule.dropped++;
        return true;
      }
    }
    return false;
  }
}
