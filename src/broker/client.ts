/**
 * One client connection: parses its stream, applies nats-server's rules to each op (CONNECT,
 * authentication, permissions, verbose/pedantic, reserved subjects), and queues outbound frames.
 * What it needs of the broker — routing, subscriptions, flushing, slow-consumer handling — it
 * asks of its {@link ClientHost}; it never reaches into the core.
 *
 * Longer than 500 lines on purpose: one method per protocol op plus delivery and liveness, as
 * nats-server keeps a connection's rules together; encoding, replies and the shared skeleton
 * already live in their own modules.
 */
import { WS_MAX_MESSAGE_BYTES } from '../io/websocket.js';
import { Parser, ParseErrorKind, type ParserSink, type PubArg } from '../protocol/parser.js';
import {
  DEFAULTS,
  ERR,
  GW_REPLY_PREFIX,
  JS_ACK_PREFIX,
  OK,
  PONG,
  SERVICE_REPLY_PREFIX,
  encodeErr,
  errPubViolation,
  errReplyViolation,
} from '../protocol/constants.js';
import { msgLineLength, writeHmsgLine, writeMsg, writeMsgLine } from '../protocol/encode.js';
import { copyBytes } from '../protocol/bytes.js';
import { isValidLiteralSubject } from '../subject/subject.js';
import { CLIENT_OPTS, INFO as INFO_STRUCT, decodeGoJson } from '../protocol/go-json.js';
import { newNonce, type AuthenticatedUser, type Authenticator, type ClientFacts, type Credentials } from '../auth/auth.js';
import type { Permissions } from '../auth/permissions.js';
import { ReplyAllowance } from '../auth/replies.js';
import { minLimit } from '../auth/operator.js';
import { ZERO_COPY_MIN } from '../io/outbound.js';
import type { Transport } from '../io/transport.js';
import { Connection, elapsedNs, type ConnectionHost } from './connection.js';
import { CloseReason } from './close-reason.js';
import { backedUp, type Account, type Backlogged, type Subscriber, type Subscription } from './account.js';
import type { Log } from './log.js';
import { peerIp, type ConnSnapshot, type SubSnapshot } from './snapshot.js';
import { bytesToText } from '../protocol/text.js';
import { MAX_TIMER_MS, timerDelay } from '../io/timers.js';

/** One read's worth of input (nats-server's largest read buffer, client.go maxBufSize). */
const HELD_READ_BYTES = 64 * 1024;
/** How often a stalled client looks whether the connection it waits for has drained (ms). */
const STALL_CHECK_MS = 2;

export { CloseReason } from './close-reason.js';

/** What a client connection needs of the broker. */
export interface ClientHost extends ConnectionHost {
  readonly log: Log;
  /** The authenticator, when authorization is configured. */
  readonly auth: Authenticator | null;
  /** Websocket clients' authenticator (their own credentials, mapping and timeout), when they need one. */
  readonly wsAuth: Authenticator | null;
  readonly globalAccount: Account;
  /** The account named `name` (created on first use). */
  account(name: string): Account;
  /** Routes a message the client published. */
  routeFromClient(pub: Client, pa: PubArg, buf: Buffer, start: number, end: number): void;
  subscribe(client: Client, subject: string, queue: string | null, sid: string): void;
  unsubscribe(sub: Subscription): void;
  /** The client could not keep up: it is closed without a flush (nats-server sends no -ERR). */
  slowConsumer(client: Client, reason: CloseReason): void;
  /** The client is closing: drop its subscriptions and registration. */
  removeClient(client: Client): void;
  /** `INFO {...}\r\n` as `client` sees it now. */
  /** An async INFO (no nonce). */
  asyncInfoFrame(client: Client): Buffer;
  /** The clients (not internal ones) in the account named `name`. */
  accountClients(name: string): number;
  /** The client passed authentication (the system account's CONNECT event). */
  clientConnected(client: Client): void;
  /** The account lookup a CONNECT with this user JWT must wait for (a directory resolver's fetch), or null. */
  accountFetchFor(userJwt: string): Promise<void> | null;
  /** Runs `work` for the client as a read chunk is run (errors contained, output flushed); nothing when it closed. */
  resumeClient(client: Client, work: () => void): void;
  /**
   * The stall the client whose messages were just routed owes (null for none): some went to the
   * backed-up route or leaf node connection `target`; it stops reading until that one is below
   * three quarters of `maxPending` again, for at most `ms`. Forgotten once asked.
   */
  takeStall(): { target: Backlogged; ms: number } | null;
  /** The `maxPending` option. */
  readonly maxPending: number;
  /**
   * The CONNECT failed authentication: nats-server's account auth error event, in `account`
   * (default: the one the client is in, `$G` until authorized).
   */
  clientAuthFailed(client: Client, account?: Account): void;
}

/** The client's CONNECT options, with nats-server's defaults for fields left out. */
export interface ClientOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  /** Headers negotiated: the client may send HPUB and receives HMSG. */
  headers: boolean;
  noResponders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
}

export class Client extends Connection implements ParserSink, Subscriber {
  readonly parser: Parser;
  readonly subs = new Map<string, Subscription>();
  /**
   * CONNECT options. Before CONNECT nats-server runs a connection on verbose/pedantic/echo =
   * true; absent fields keep their values.
   */
  readonly connect: ClientOptions = {
    verbose: true, pedantic: true, echo: true, headers: false, noResponders: false, protocol: 0, name: '', lang: '', version: '',
  };
  connectReceived = false;
  /**
   * The transport's reading is paused while a CONNECT waits for its account (see
   * {@link Client.holdReading}); a server-wide `resume()` leaves it paused.
   */
  readHeld = false;
  /** Stalled when it publishes into a backed-up peer connection (see {@link stall}). */
  readonly stallable = true;
  /** The timer of a stall's next check (see {@link stall}), or null. */
  private stallTimer: NodeJS.Timeout | null = null;
  /** The backed-up connection a stall waits for, and when the stall ends at the latest. */
  private stallFor: Backlogged | null = null;
  private stallUntil = 0;
  /** Set when the first PING after CONNECT was answered: from then on async INFO may be sent. */
  firstPongSent = false;
  /** A connection of the websocket listener. */
  readonly websocket: boolean;
  /** TLS handshake done (for connections of a TLS listener). */
  tlsReady = false;
  /** Websocket with `jwtCookie`: the user JWT of the upgrade request's cookie ('' without). */
  cookieJwt = '';

  // Authentication and authorization.
  /** The account whose subject space this client lives in. */
  account: Account;
  /**
   * The authenticated user's permissions, or null (no auth, or a user without any): this
   * connection's own copy, for its deny-at-delivery switch (Permissions.forConnection).
   */
  perms: Permissions | null = null;
  /** The authenticated user's name ('' without auth). */
  user = '';
  /** The nonce sent in INFO for nkey signatures, or null. */
  nonce: string | null = null;
  /** Credentials from CONNECT, kept for re-authentication on config reload. */
  private readonly creds: Credentials = { user: '', pass: '', token: '', nkey: '', sig: '', jwt: '' };
  /** CONNECT named an account (`account`, `new_account`): refused, as without operator mode. */
  private connectAccount = false;
  /** allow_responses: reply subjects this client may answer. */
  private replies: ReplyAllowance | null = null;

  /** SUB and UNSUB ops received (nats-server's `in.subs`): they count as activity. */
  private subOps = 0;
  /** Last inbound message or PING (a PONG stand-in for the PING timer). */
  private lastIn = 0;
  /** Epoch ms of the last PING sent (0: none; an RTT is due). */
  private rttStart = 0;
  private readonly startHr = performance.now();

  // Timers.
  private authTimer: NodeJS.Timeout | null = null;
  /** Operator mode: the payload limit of the user JWT, its account and the server, or null (the server's). */
  maxPayload: number | null = null;
  /** Operator mode: the subscription limit of the user JWT, its account and the server (-1 none), or null (the server's). */
  maxSubs: number | null = null;
  /** Operator mode: closes the connection when the user JWT expires. */
  private expiryTimer: NodeJS.Timeout | null = null;
  /**
   * Operator mode: when the user JWT expires (epoch ms; 0: never), for `$SYS.REQ.USER.INFO`
   * (nats-server's `c.expires`: the user's expiry only, not the account's even when sooner).
   */
  expiresAt = 0;
  /** Runs while the transport holds unwritten bytes; cleared on 'drain'. */
  private writeTimer: NodeJS.Timeout | null = null;
  /** Bytes the kernel had taken when the write-deadline timer started. */
  private writtenAtTimerStart = 0;
  private readonly onWriteDeadline = (): void => {
    this.writeTimer = null;
    const socket = this.socket;
    if (this.closed || socket.writableLength === 0) return;
    const written = socket.bytesWritten - socket.writableLength;
    if (written > this.writtenAtTimerStart) {
      // Slow, but moving: give it another deadline.
      this.startWriteTimer();
      return;
    }
    this.host.slowConsumer(this, CloseReason.SlowConsumerWriteDeadline);
  };
  /** Called by the transport's 'drain' event: the kernel took everything, progress was made. */
  readonly onDrain = (): void => {
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
  };

  constructor(
    protected override readonly host: ClientHost,
    readonly cid: number,
    socket: Transport,
    websocket = false,
  ) {
    super(host, socket);
    const opts = host.options;
    this.websocket = websocket;
    this.account = host.globalAccount;
    this.parser = new Parser(this, { maxControlLine: opts.maxControlLine, maxPayload: opts.maxPayload });
    this.setPingTimer(opts.pingIntervalMs);
  }

  get echo(): boolean {
    return this.connect.echo;
  }

  /** CONNECT `no_responders`: a request nobody receives gets a 503 status message. */
  get noResponders(): boolean {
    return this.connect.noResponders;
  }

  get name(): string {
    return this.connect.name;
  }

  get lang(): string {
    return this.connect.lang;
  }

  get version(): string {
    return this.connect.version;
  }

  /** Feeds bytes read from the transport. */
  onData(chunk: Buffer): void {
    const msgsBefore = this.inMsgs;
    const subOpsBefore = this.subOps;
    this.host.takeStall();
    this.parser.parse(chunk);
    if (this.inMsgs !== msgsBefore || this.subOps !== subOpsBefore) this.lastIn = this.lastActivity = Date.now();
    const stall = this.host.takeStall();
    if (stall !== null) this.stall(stall.target, stall.ms);
    if (this.readHeld && this.parser.heldBytes > this.heldLimit()) {
      // A transport that kept delivering while paused: nats-server would not have read this.
      this.host.log.warn(`${this.label} - Input held for a waiting CONNECT exceeds ${this.heldLimit()} bytes, closing`);
      this.close(CloseReason.ReadError, false);
    }
  }

  /**
   * The most input kept while a CONNECT waits for its account. nats-server's read loop is
   * blocked in the CONNECT then, so it holds at most the rest of one read (its read buffer grows
   * to 64 KB, client.go maxBufSize); here the transport's reading is paused instead, which
   * leaves the rest of one read chunk: at most one maximal operation (control line and payload)
   * beyond a read; a WebSocket connection's message is delivered whole (nats-server decodes
   * frames per read), so it may add one message of the largest size the listener accepts. More
   * means the transport ignored the pause: the connection is closed.
   */
  private heldLimit(): number {
    const o = this.host.options;
    return HELD_READ_BYTES + o.maxControlLine + o.maxPayload + (this.websocket ? WS_MAX_MESSAGE_BYTES : 0);
  }

  /**
   * Stops reading until `target` is below three quarters of `maxPending` again, checked every
   * 2 ms, for at most `ms` (nats-server's stalledWait: its read loop waits for the backed-up
   * connection to drain, at most 2 or 5 ms per message); a held CONNECT or a paused server keeps
   * the transport paused after it.
   */
  private stall(target: Backlogged, ms: number): void {
    if (this.closed || this.stallTimer !== null) return;
    this.socket.pause();
    this.stallFor = target;
    this.stallUntil = performance.now() + ms;
    this.stallTimer = setTimeout(this.stallCheckBound, STALL_CHECK_MS);
  }

  private readonly stallCheckBound = (): void => {
    this.stallTimer = null;
    const target = this.stallFor!;
    if (!this.closed && target.closed !== true && backedUp(target, this.host.maxPending) && performance.now() < this.stallUntil) {
      this.stallTimer = setTimeout(this.stallCheckBound, STALL_CHECK_MS);
      return;
    }
    this.stallFor = null;
    if (!this.closed && !this.readHeld && !this.host.controls.paused) this.socket.resume();
  };

  /** Whether the client is stalled now (its reading paused for a backed-up peer connection). */
  get stalled(): boolean {
    return this.stallTimer !== null;
  }

  /**
   * Pauses (true) or resumes the transport's reading while a CONNECT waits for its account, the
   * back-pressure nats-server gets from its blocked read loop (a server paused by the fault
   * controls stays paused).
   */
  private holdReading(hold: boolean): void {
    this.readHeld = hold;
    if (hold) this.socket.pause();
    else if (!this.closed && !this.host.controls.paused) this.socket.resume();
  }

  /** The connection as `/connz`, `connections()` and the closed-connection ring see it. */
  snapshot(withSubs = true): ConnSnapshot {
    const subs: SubSnapshot[] = [];
    if (withSubs) for (const s of this.subs.values()) subs.push({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.nm, max: s.max });
    return {
      cid: this.cid,
      account: this.account.name,
      ip: peerIp(this.socket.remoteAddress),
      port: this.socket.remotePort ?? 0,
      start: this.start,
      lastActivity: this.lastActivity,
      rttNs: this.rttNs,
      pendingBytes: this.pendingBytes,
      inMsgs: this.inMsgs,
      outMsgs: this.outMsgs,
      inBytes: this.inBytes,
      outBytes: this.outBytes,
      numSubs: this.subs.size,
      name: this.connect.name,
      lang: this.connect.lang,
      version: this.connect.version,
      subs,
    };
  }

  /**
   * nats-server's getRawAuthUser (the `user` of system events): the nkey, the user name, the
   * JWT user's public key, or `[REDACTED]` for a token.
   */
  get authUser(): string {
    const c = this.creds;
    if (c.nkey !== '') return c.nkey;
    if (c.user !== '') return c.user;
    if (c.jwt !== '') return this.user;
    if (c.token !== '') return '[REDACTED]';
    return '';
  }

  /** The user JWT of CONNECT ('' without). */
  get userJwt(): string {
    return this.creds.jwt;
  }

  // ---- Authentication ---------------------------------------------------------------------

  /**
   * Auth is configured: the first op must be CONNECT (unless no_auth_user lets clients in
   * without one), within the auth timeout. `nonce`: one already sent in INFO.
   */
  startAuth(auth: Authenticator, nonce: string | null = null): void {
    if (auth.needsNonce) this.nonce = nonce ?? newNonce();
    const noAuth = auth.noAuthUser();
    if (noAuth !== null) this.setUser(noAuth);
    else this.parser.awaitingAuth = true;
    this.authTimer = setTimeout(() => {
      this.authTimer = null;
      if (!this.connectReceived && !this.closed) {
        this.sendErrAndClose(ERR.AuthTimeout, CloseReason.AuthTimeout);
        this.host.flushAll();
      }
    }, timerDelay(auth.config.timeoutMs));
    this.authTimer.unref();
  }

  private clearAuthTimer(): void {
    if (this.authTimer !== null) {
      clearTimeout(this.authTimer);
      this.authTimer = null;
    }
  }

  private setUser(user: AuthenticatedUser): void {
    this.user = user.name;
    this.accountMaxConnections = user.accountMaxConnections ?? -1;
    // The user's expiry or its account's, whichever comes first (both close the connection).
    const u = user.expiresInMs;
    const a = user.accountExpiresInMs;
    if (a !== undefined && (u === undefined || a < u)) this.setExpiry(a, ERR.AccountAuthExpired);
    else this.setExpiry(u, ERR.AuthExpired);
    this.expiresAt = u === undefined ? 0 : Date.now() + u;
    this.applyLimits(user);
    // On a reload the subscriptions made so far are checked again, as nats-server does.
    this.perms = user.permissions === null ? null : user.permissions.forConnection(this.subs.values());
    this.account = this.host.account(user.account);
  }

  /**
   * client.go applyAccountLimits: the user's and account's limits, then the server's
   * (`max_payload`, `max_subscriptions`; 0 there is none). Users without JWT keep the server's.
   */
  private applyLimits(user: AuthenticatedUser): void {
    const o = this.host.options;
    if (user.limits === undefined) {
      this.maxPayload = null;
      this.maxSubs = null;
      this.parser.maxPayload = o.maxPayload;
      return;
    }
    this.maxPayload = minLimit(user.limits.payload, o.maxPayload);
    this.maxSubs = minLimit(user.limits.subs, o.maxSubscriptions === 0 ? -1 : o.maxSubscriptions);
    this.parser.maxPayload = this.maxPayload;
    // Already at the limit (a limit of 0, or lowered below the subscriptions held): nats-server
    // sends the error from a goroutine, then closes the connection 20 ms later.
    if (this.maxSubs !== -1 && this.subs.size >= this.maxSubs) {
      setImmediate(() => {
        if (this.closed) return;
        this.sendErr(ERR.MaxSubscriptions);
        this.host.flushAll();
        setTimeout(() => this.close(CloseReason.MaxSubscriptions), 20).unref();
      });
    }
  }

  /**
   * client.go setExpirationTimer: at the user JWT's expiry, `-ERR 'User Authentication Expired'`
   * and close; at the account JWT's (accounts.go expiredTimeout), `-ERR 'Account Authentication Expired'`.
   */
  private setExpiry(ms: number | undefined, text: string = ERR.AuthExpired): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (ms === undefined) return;
    // Node's timers hold at most 2^31-1 ms (a longer delay fires at once): wait in steps.
    const step = Math.min(ms, MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.closed) return;
      if (ms > step) return this.setExpiry(ms - step, text);
      this.sendErrAndClose(text, CloseReason.AuthExpired);
      this.host.flushAll();
    }, step);
    this.expiryTimer.unref();
  }

  /** Operator mode: the account JWT's `conn` limit when this client authenticated (-1: none). */
  accountMaxConnections = -1;

  /** An account JWT lowered `conn` below the account's connections: this one goes. */
  closeOverAccountLimit(): void {
    this.sendErrAndClose(ERR.MaxAccountConnections, CloseReason.MaxAccountConnections);
  }

  /** Config reload: checks the CONNECT credentials again; closes the client if they fail. */
  reauthenticate(): void {
    // A CONNECT still waiting for its account is authenticated when the lookup ends, with the
    // options then in force (nats-server's reload looks the account up again for it).
    if (this.readHeld) return;
    const auth = this.authenticator;
    if (auth === null) {
      this.user = '';
      this.perms = null;
      return;
    }
    const user = auth.authenticate(this.creds, this.nonce, this.facts());
    // Operator mode: an account JWT that now revokes the user (nats-server's UpdateAccountClaims).
    if (user === null && auth.revoked(this.creds)) return this.sendErrAndClose(ERR.AuthRevoked, CloseReason.Revoked);
    // A client cannot move between accounts with its subscriptions: that closes it too.
    if (user === null || user.account !== this.account.name) this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    else this.setUser(user);
  }

  /**
   * Operator mode: its account's JWT was updated by a system request (accounts.go
   * UpdateAccountClaims, not a reload): a revoked user, or a bearer token the account now
   * refuses, is closed; otherwise the limits and the account's expiry follow the new JWT and the
   * permissions stay those of the CONNECT.
   */
  accountUpdated(): void {
    const auth = this.authenticator;
    if (auth === null || this.closed) return;
    if (auth.revoked(this.creds)) return this.sendErrAndClose(ERR.AuthRevoked, CloseReason.Revoked);
    if (auth.refusesBearer(this.creds)) return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    const user = auth.authenticate(this.creds, this.nonce, this.facts());
    if (user === null || user.account !== this.account.name) return;
    const u = user.expiresInMs;
    const a = user.accountExpiresInMs;
    if (a !== undefined && (u === undefined || a < u)) this.setExpiry(a, ERR.AccountAuthExpired);
    else this.setExpiry(u, ERR.AuthExpired);
    this.expiresAt = u === undefined ? 0 : Date.now() + u;
    this.applyLimits(user);
  }

  /** The client certificate's DER (a TLS client's, or a `wss://` one's), or null. */
  private readonly peerCert = (): Buffer | null => this.socket.getPeerX509Certificate?.()?.raw ?? null;

  /** The authenticator of this kind of connection (websocket clients may have their own). */
  private get authenticator(): Authenticator | null {
    return this.websocket ? this.host.wsAuth : this.host.auth;
  }

  /** What authentication checks of this connection: its kind, address and TLS certificate. */
  private facts(): ClientFacts {
    return { websocket: this.websocket, ip: this.socket.remoteAddress ?? '', cert: this.peerCert };
  }

  /** allow_responses: `reply` may now be published to (see Permissions). */
  allowReply(reply: string): void {
    const limits = this.perms?.responses;
    if (limits === null || limits === undefined) return;
    (this.replies ??= new ReplyAllowance()).allow(reply, limits);
  }

  /** Publish permission, including allowed responses (nats-server pubAllowedFullCheck). */
  private canPublish(subject: string): boolean {
    const perms = this.perms!;
    if (perms.canPublish(subject)) return true;
    const limits = perms.responses;
    return limits !== null && this.replies !== null && this.replies.use(subject, limits);
  }

  /** `ip:port - cid:N`, the prefix of this connection's log lines (nats-server's). */
  get label(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0} - cid:${this.cid}`;
  }

  /** Logs an inbound op as nats-server's trace does: `<<- [SUB foo 1]`. */
  private traceIn(op: string): void {
    this.host.log.trace(`${this.label} - <<- [${op}]`);
  }

  // ---- ParserSink -------------------------------------------------------------------------

  onConnect(line: string): void {
    // The parser's bytes as text: names, users and passwords are compared and shown as Go decodes them.
    const json = bytesToText(line);
    const log = this.host.log;
    if (log.traceOn) this.traceIn(`CONNECT ${json.replace(/"(pass|auth_token|sig|jwt)":"[^"]*"/g, '"$1":"[REDACTED]"')}`);
    // A CONNECT that Go cannot decode into ClientOpts closes the connection without an -ERR.
    const fields = decodeGoJson(json, CLIENT_OPTS);
    if (fields === null) return this.close(CloseReason.ProtocolViolation);
    this.clearAuthTimer();
    // nats-server's first RTT estimate (accept to CONNECT), made before authentication: the
    // auth error event of a refused client carries it.
    this.rttNs = elapsedNs(this.startHr);
    this.applyConnect(fields);
    this.connectReceived = true;
    const c = this.connect;
    c.headers = c.headers && !this.host.options.noHeaderSupport;
    this.parser.headers = c.headers;
    // websocket.go: a websocket client's JWT may come in the upgrade request's cookie.
    if (this.websocket && this.creds.jwt === '') this.creds.jwt = this.cookieJwt;
    // server.go lookupAccount: an account the directory resolver lacks is fetched from the other
    // servers while the CONNECT waits (at most the resolver's `timeout`); the client's further
    // input is held until then.
    const wait = this.authenticator === null ? null : this.host.accountFetchFor(this.creds.jwt);
    if (wait !== null) {
      this.parser.hold();
      this.holdReading(true);
      void wait.then(() => this.host.resumeClient(this, () => {
        this.readHeld = false;
        this.finishConnect();
        this.host.takeStall();
        if (!this.closed) this.parser.resume();
        // The held input may have held again (another CONNECT waiting): reading stays paused then.
        if (!this.readHeld) this.holdReading(false);
        const stall = this.host.takeStall();
        if (stall !== null && !this.readHeld) this.stall(stall.target, stall.ms);
      }));
      return;
    }
    this.finishConnect();
  }

  /** CONNECT, once its account is known: authentication, then the checks of the options. */
  private finishConnect(): void {
    const c = this.connect;
    const auth = this.authenticator;
    if (auth !== null) {
      // When auth is not required, credentials are accepted and ignored (nats-server).
      const user = auth.authenticate(this.creds, this.nonce, this.facts());
      if (user === null) {
        // auth.go: the account auth error event comes before the -ERR.
        this.host.clientAuthFailed(this);
        return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
      }
      // An account JWT's `conn` (server.go registerWithAccount: MaxTotalConnectionsReached).
      const maxConns = user.accountMaxConnections;
      if (maxConns !== undefined && maxConns !== -1 && this.host.accountClients(user.account) >= maxConns) {
        this.sendErrAndClose(ERR.MaxAccountConnections, CloseReason.MaxAccountConnections);
        // auth.go processClientOrLeafAuthentication: RegisterNkeyUser failed, so the deferred
        // check sends the account auth error event, in the JWT's account (registerWithAccount
        // set c.acc before the limit refused it), after the -ERR and the close.
        this.host.clientAuthFailed(this, this.host.account(user.account));
        return;
      }
      this.setUser(user);
      this.parser.awaitingAuth = false;
      // nats-server's accountConnectEvent, once the client is authorized.
      this.host.clientConnected(this);
    }
    if (this.connectAccount) return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    if (c.protocol < 0 || c.protocol > 1) return this.sendErrAndClose(ERR.BadClientProtocol, CloseReason.BadClientProtocol);
    if (c.noResponders && !c.headers) {
      return this.sendErrAndClose(ERR.NoRespondersNeedHeaders, CloseReason.NoRespondersRequiresHeaders);
    }
    this.lastActivity = Date.now();
    if (c.verbose) this.send(OK);
    this.setFirstPingTimer();
  }

  /** Applies decoded CONNECT fields on top of the current options (absent fields keep theirs). */
  private applyConnect(fields: Map<string, unknown>): void {
    const c = this.connect;
    for (const [key, v] of fields) {
      switch (key) {
        case 'verbose': c.verbose = v as boolean; break;
        case 'pedantic': c.pedantic = v as boolean; break;
        case 'echo': c.echo = v as boolean; break;
        case 'headers': c.headers = v as boolean; break;
        case 'no_responders': c.noResponders = v as boolean; break;
        case 'protocol': c.protocol = v as number; break;
        case 'name': c.name = v as string; break;
        case 'lang': c.lang = v as string; break;
        case 'version': c.version = v as string; break;
        case 'account': if (v !== '') this.connectAccount = true; break;
        case 'new_account': if (v === true) this.connectAccount = true; break;
        case 'user': this.creds.user = v as string; break;
        case 'pass': this.creds.pass = v as string; break;
        case 'auth_token': this.creds.token = v as string; break;
        case 'nkey': this.creds.nkey = v as string; break;
        case 'sig': this.creds.sig = v as string; break;
        case 'jwt': this.creds.jwt = v as string; break;
        default: break;
      }
    }
  }

  onPubArgs(pa: PubArg): void {
    this.clearAuthTimer();
    if (this.host.log.traceOn) {
      this.traceIn(`${pa.hdr >= 0 ? 'HPUB' : 'PUB'} ${pa.subject}${pa.reply ? ` ${pa.reply}` : ''}${pa.hdr >= 0 ? ` ${pa.hdr}` : ''} ${pa.size}`);
    }
    if (this.connect.pedantic && !isValidLiteralSubject(pa.subject)) this.sendErr(ERR.InvalidPublishSubject);
  }

  onMsg(pa: PubArg, buf: Buffer, start: number, end: number): void {
    this.inMsgs++;
    this.inBytes += end - start;
    // Reserved prefixes: gateway-routed subjects, and replies owned by the server.
    if (pa.subject.startsWith(GW_REPLY_PREFIX) && pa.subject.length > GW_REPLY_PREFIX.length) {
      return this.sendErr(errPubViolation(pa.subject));
    }
    if (this.perms !== null && !this.canPublish(pa.subject)) return this.sendErr(errPubViolation(pa.subject));
    if (pa.reply.length > 0 && isReservedReply(pa.reply)) return this.sendErr(errReplyViolation(pa.reply));
    if (this.connect.verbose) this.send(OK);
    this.host.routeFromClient(this, pa, buf, start, end);
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    this.clearAuthTimer();
    this.subOps++;
    if (this.host.log.traceOn) this.traceIn(`SUB ${subject}${queue === null ? '' : ` ${queue}`} ${sid}`);
    this.host.subscribe(this, subject, queue, sid);
  }

  onUnsub(sid: string, max: number): void {
    this.subOps++;
    if (this.host.log.traceOn) this.traceIn(`UNSUB ${sid}${max >= 0 ? ` ${max}` : ''}`);
    const sub = this.subs.get(sid);
    let remove = false;
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) sub.max = max;
      else {
        sub.max = 0;
        remove = true;
      }
    }
    if (this.connect.verbose) this.send(OK);
    if (remove) this.host.unsubscribe(sub!);
  }

  onPing(): void {
    if (this.host.log.traceOn) this.traceIn('PING');
    this.send(PONG);
    this.lastIn = Date.now();
    // nats-server sends async INFO only to clients whose first PING after CONNECT it answered.
    // With its first PONG, a protocol-1 client whose user JWT lowered max_payload gets an INFO
    // saying so (client.go processPing: `c.mpay != opts.MaxPayload`), without the nonce.
    if (this.connectReceived && !this.firstPongSent && this.connect.protocol >= 1 && this.maxPayload !== null && this.maxPayload !== this.host.options.maxPayload) {
      this.send(this.host.asyncInfoFrame(this));
    }
    if (this.connectReceived) this.firstPongSent = true;
  }

  /** True when the client accepts async INFO now (protocol 1 and past its first PING). */
  get acceptsAsyncInfo(): boolean {
    return this.connect.protocol >= 1 && this.firstPongSent && !this.closed;
  }

  onPong(): void {
    if (this.host.log.traceOn) this.traceIn('PONG');
    this.pongReceived();
  }

  onInfo(json: string): void {
    // nats-server decodes a client's INFO and otherwise ignores it; one it cannot decode
    // closes the connection without a reply.
    if (decodeGoJson(json, INFO_STRUCT) === null) this.close(CloseReason.ProtocolViolation);
  }

  onErr(): void {
    // A client sending -ERR is closed (nats-server's processErr), without a reply.
    this.close(CloseReason.ProtocolViolation);
  }

  onParseError(kind: ParseErrorKind): void {
    switch (kind) {
      case ParseErrorKind.UnknownOp:
        return this.sendErrAndClose(ERR.UnknownOp, CloseReason.ProtocolViolation);
      case ParseErrorKind.MaxControlLine:
        return this.sendErrAndClose(ERR.MaxControlLine, CloseReason.MaxControlLine);
      case ParseErrorKind.MaxPayload:
        return this.sendErrAndClose(ERR.MaxPayload, CloseReason.MaxPayload);
      case ParseErrorKind.AuthViolation:
        return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
      case ParseErrorKind.BadArgs:
      case ParseErrorKind.HeadersNotSupported:
        return this.close(CloseReason.ProtocolViolation);
    }
  }

  // ---- Outbound ---------------------------------------------------------------------------

  /** Queues a pre-encoded frame (an alias of `send`, the name nats-server uses). */
  sendProto(frame: Buffer): void {
    this.send(frame);
  }

  /** Queues `-ERR '<text>'`; the connection stays open. */
  sendErr(text: string): void {
    const log = this.host.log;
    if (log.traceOn) log.trace(`${this.label} - ->> [-ERR '${text}']`);
    this.send(encodeErr(text));
  }

  /** Queues `-ERR '<text>'`, flushes it and closes the connection. */
  override sendErrAndClose(text: string, reason: CloseReason): void {
    this.sendErr(text);
    this.close(reason);
  }

  /**
   * Queues a MSG/HMSG for `sub` carrying `pa`'s message with payload `buf[start, start +
   * pa.size)`. Returns false when the connection was closed as a slow consumer instead.
   */
  deliver(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const size = pa.size;
    // The common case stays small enough to inline: a MSG with a short payload, copied.
    if (pa.hdr >= 0 || size >= ZERO_COPY_MIN) return this.deliverOther(sub, pa, buf, start);
    const out = this.out;
    // (Leading zeros fit in the size's room: the parser takes at most 9 digits, as nats-server.)
    const slab = out.reserve(msgLineLength(pa.subject, sub.sid, pa.reply) + size + 2);
    out.pos = writeMsg(slab, out.pos, pa.subject, sub.sid, pa.reply, pa.sizeZeros, buf, start, size);
    // delivered(size), written out: one call less per delivery.
    this.outMsgs++;
    this.outBytes += size;
    const host = this.host;
    if (out.queued + this.socket.writableLength > host.options.maxPending) {
      host.slowConsumer(this, CloseReason.SlowConsumerPendingBytes);
      return false;
    }
    host.markForFlush(this);
    return true;
  }

  /** {@link deliver} for messages with headers, and payloads large enough to queue by reference. */
  private deliverOther(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    let hdr = pa.hdr;
    let size = pa.size;
    let hdrZeros = pa.hdrZeros;
    let sizeZeros = pa.sizeZeros;
    if (hdr > 0 && !this.connect.headers) {
      // A client that did not negotiate headers gets the payload without the header block,
      // with its size recomputed (so no leading zeros copied).
      start += hdr;
      size -= hdr;
      hdr = -1;
      hdrZeros = sizeZeros = 0;
    } else if (hdr === 0) {
      hdr = -1;
    }
    const out = this.out;
    const copyPayload = size < ZERO_COPY_MIN;
    const line = msgLineLength(pa.subject, sub.sid, pa.reply);
    const slab = out.reserve(copyPayload ? line + size + 2 : line);
    let p = hdr >= 0
      ? writeHmsgLine(slab, out.pos, pa.subject, sub.sid, pa.reply, hdr, size, hdrZeros, sizeZeros)
      : writeMsgLine(slab, out.pos, pa.subject, sub.sid, pa.reply, size, sizeZeros);
    if (copyPayload) {
      if (size > 0) p = copyBytes(slab, p, buf, start, size);
      slab[p++] = 0x0d;
      slab[p++] = 0x0a;
      out.pos = p;
    } else {
      out.pos = p;
      out.appendRef(buf, start, start + size);
      const tail = out.reserve(2);
      tail[out.pos++] = 0x0d;
      tail[out.pos++] = 0x0a;
    }
    return this.delivered(size);
  }

  /** Counts a queued message; false (and closed) when over `maxPending`, else marked for flush. */
  private delivered(size: number): boolean {
    this.outMsgs++;
    this.outBytes += size;
    if (this.out.queued + this.socket.writableLength > this.host.options.maxPending) {
      this.host.slowConsumer(this, CloseReason.SlowConsumerPendingBytes);
      return false;
    }
    this.host.markForFlush(this);
    return true;
  }

  protected override writeDelayMs(): number {
    return this.host.controls.latencyMs;
  }

  protected override afterWrite(): void {
    // While the transport holds bytes the kernel has not taken, the client must make progress
    // within writeDeadline, or it is closed as a slow consumer.
    if (this.writeTimer === null && this.socket.writableLength > 0) this.startWriteTimer();
  }

  private startWriteTimer(): void {
    const socket = this.socket;
    this.writtenAtTimerStart = socket.bytesWritten - socket.writableLength;
    this.writeTimer = setTimeout(this.onWriteDeadline, timerDelay(this.host.options.writeDeadlineMs));
    this.writeTimer.unref();
  }

  // ---- Liveness -----------------------------------------------------------------------------

  /** After CONNECT the first PING comes sooner: min(interval, 2s) plus up to 20% jitter. */
  private setFirstPingTimer(): void {
    let d = Math.min(this.host.options.pingIntervalMs, DEFAULTS.firstPingIntervalMs);
    d += Math.floor(Math.random() * (d / 5));
    this.setPingTimer(d);
  }

  /** nats-server's processPingTimer. */
  protected onPingTimer(): void {
    const opts = this.host.options;
    // A paused (hung) server sends no PINGs either.
    if (this.host.controls.paused) return this.setPingTimer(opts.pingIntervalMs);
    const now = Date.now();
    const needRTT = this.rttStart === 0 || now - this.rttStart > 3_600_000;
    // Recent traffic from the client stands in for a PONG (clients only, as nats-server).
    if (needRTT || now - this.lastIn >= opts.pingIntervalMs) {
      this.rttStart = now;
      if (!this.ping(opts.maxPingsOut)) {
        this.sendErrAndClose(ERR.StaleConnection, CloseReason.StaleConnection);
        this.host.flushAll();
        return;
      }
    }
    this.setPingTimer(opts.pingIntervalMs);
  }

  // ---- Closing ------------------------------------------------------------------------------

  /**
   * Closes the connection: queued frames are flushed (unless `flush` is false) and the
   * transport is ended. Safe to call more than once.
   */
  close(reason: CloseReason, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    const log = this.host.log;
    if (log.debugOn) log.debug(`${this.label} - Client connection closed: ${reason}`);
    this.clearAuthTimer();
    this.setExpiry(undefined);
    if (this.stallTimer !== null) {
      clearTimeout(this.stallTimer);
      this.stallTimer = null;
      this.stallFor = null;
    }
    this.onDrain();
    this.host.removeClient(this);
    this.closeTransport(flush);
  }
}

/** Replies a client may not use: service-import replies, JetStream acks, gateway replies. */
function isReservedReply(reply: string): boolean {
  return (
    reply.startsWith(SERVICE_REPLY_PREFIX) ||
    (reply.length > JS_ACK_PREFIX.length && reply.startsWith(JS_ACK_PREFIX)) ||
    (reply.length > GW_REPLY_PREFIX.length && reply.startsWith(GW_REPLY_PREFIX))
  );
}
