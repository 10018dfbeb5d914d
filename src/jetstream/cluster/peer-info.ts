/**
 * What the JetStream servers of a cluster know of each other beyond their names: their tags
 * (`server_tags`), which stream placement needs. nats-server learns them from the servers'
 * `$SYS.SERVER.*.STATSZ` updates (nodeToInfo); here each server announces them on one internal
 * subject of the system account, `$JSC.PEER.INFO`, which only embedded servers use:
 *
 * - at start, asking the others to answer with theirs (`ask`);
 * - when its tags change (a reload), and when it sees a new meta leader;
 * - when a server asks (a new meta leader asks, and asks again while a voter's tags are unknown).
 *
 * A meta leader placing a stream while a server's tags are unknown asks and waits briefly
 * ({@link PeerDirectory.whenKnown}).
 */
import type { InternalClient } from '../../broker/internal.js';

const SUBJECT = '$JSC.PEER.INFO';

interface PeerInfoMessage {
  readonly name: string;
  readonly tags: readonly string[];
  readonly ask: boolean;
}

interface Waiter {
  readonly names: readonly string[];
  readonly done: () => void;
  readonly timer: NodeJS.Timeout;
}

export class PeerDirectory {
  private readonly tags = new Map<string, readonly string[]>();
  /**
   * Own tags as last announced: the options' array (a reload replaces it, so a new reference is
   * all `tick` needs to look at) and its JSON (to tell a new array with the same tags).
   */
  private announcedRef: readonly string[] | null = null;
  private announced: string | null = null;
  private lastAsk = 0;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(
    private readonly sys: InternalClient,
    private readonly self: string,
    private readonly ownTags: () => readonly string[],
    private readonly internalError: (err: unknown, what: string) => void,
  ) {
    sys.subscribe(SUBJECT, (msg) => this.onMessage(msg.data));
  }

  /** A server's tags (lower case); undefined while it has not told them. */
  tagsOf(name: string): readonly string[] | undefined {
    return name === this.self ? this.ownTags() : this.tags.get(name);
  }

  /** Sends this server's tags; `ask`: the others answer with theirs. */
  announce(ask: boolean): void {
    if (this.closed) return;
    const tags = this.ownTags();
    this.announcedRef = tags;
    this.announced = JSON.stringify(tags);
    if (ask) this.lastAsk = Date.now();
    const m: PeerInfoMessage = { name: this.self, tags, ask };
    this.sys.publish(SUBJECT, JSON.stringify(m));
  }

  /**
   * Periodic: announces tags a reload changed; and asks again (at most every `askEveryMs`)
   * while one of `wanted` is unknown.
   */
  tick(wanted: readonly string[], askEveryMs: number): void {
    if (this.closed) return;
    const own = this.ownTags();
    if (own !== this.announcedRef && this.announced !== JSON.stringify(own)) this.announce(false);
    else if (own !== this.announcedRef) this.announcedRef = own;
    else if (Date.now() - this.lastAsk >= askEveryMs && wanted.some((n) => this.tagsOf(n) === undefined)) this.announce(true);
  }

  /**
   * Runs `done` once the tags of every one of `names` are known, or after `timeoutMs` (then
   * the unknown ones count as untagged). At once when they are known.
   */
  whenKnown(names: readonly string[], timeoutMs: number, done: () => void): void {
    if (this.closed || names.every((n) => this.tagsOf(n) !== undefined)) {
      done();
      return;
    }
    this.announce(true);
    const w: Waiter = {
      names,
      done,
      timer: setTimeout(() => {
        this.waiters.delete(w);
        done();
      }, timeoutMs),
    };
    w.timer.unref();
    this.waiters.add(w);
  }

  private onMessage(data: Buffer): void {
    let m: PeerInfoMessage;
    try {
      m = JSON.parse(data.toString('utf8')) as PeerInfoMessage;
      if (typeof m.name !== 'string' || !Array.isArray(m.tags) || m.tags.some((t) => typeof t !== 'string')) throw new Error('not a peer info');
    } catch (err) {
      this.internalError(err, 'JetStream cluster: a peer info message that does not parse');
      return;
    }
    if (m.name === this.self) return;
    this.tags.set(m.name, [...m.tags]);
    if (m.ask === true) this.announce(false);
    for (const w of [...this.waiters]) {
      if (!w.names.every((n) => this.tagsOf(n) !== undefined)) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.done();
    }
  }

  /** Settles every waiter (they run now) and stops. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.done();
    }
    this.waiters.clear();
  }
}
