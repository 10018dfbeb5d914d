/**
 * Test certificates made at run time with the machine's openssl (no private key is committed):
 * a CA, a server certificate for localhost/127.0.0.1, and client certificates with the subjects
 * and subject alternative names a test asks for. P-256 keys, so a dozen certificates take well
 * under a second.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { WebSocket } from 'ws';

/** Paths of a certificate and its key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA in a temporary directory, issuing certificates; `remove()` deletes the directory. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'nats-pki-'));
  readonly ca: string;
  readonly server: CertFiles;
  private n = 0;

  constructor() {
    this.ca = join(this.dir, 'ca.pem');
    const caKey = join(this.dir, 'ca.key');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', this.ca, '-days', '1', '-subj', '/CN=test-ca');
    this.server = this.issue('/CN=server', 'DNS:localhost,IP:127.0.0.1');
  }

  /**
   * A certificate signed by the CA. `subject` in openssl's form (`/C=US/O=Acme/CN=alice`, in
   * the order the DER lists them); `san` an openssl subjectAltName value (`email:a@b,DNS:x`).
   */
  issue(subject: string, san?: string): CertFiles {
    const base = join(this.dir, `c${this.n++}`);
    const files = { cert: `${base}.pem`, key: `${base}.key` };
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', files.key, '-out', `${base}.csr`, '-subj', subject, '-multivalue-rdn');
    const ext = [];
    if (san !== undefined) {
      writeFileSync(`${base}.ext`, `subjectAltName=${san}\n`);
      ext.push('-extfile', `${base}.ext`);
    }
    openssl('x509', '-req', '-in', `${base}.csr`, '-CA', this.ca, '-CAkey', join(this.dir, 'ca.key'), '-CAcreateserial', '-out', files.cert, '-days', '1', ...ext);
    return files;
  }

  /** The DER of a certificate file. */
  der(files: CertFiles): Buffer {
    const pem = readFileSync(files.cert, 'utf8');
    const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    return Buffer.from(b64, 'base64');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One NATS client attempt over TLS at the wire level: reads the plain-text INFO, upgrades with
 * `client` (or no certificate), sends `send`, and resolves with every byte received after the
 * INFO until the server closes, a `PONG` arrives, or `waitMs` passes. A connection closed
 * (or a handshake refused) without a byte resolves with `'<closed>'`.
 */
export async function tlsAttempt(port: number, ca: string, client: CertFiles | null, send: string, waitMs = 1500): Promise<string> {
  const raw = netConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString('latin1');
      if (seen.includes('\r\n')) {
        raw.off('data', onData);
        raw.pause();
        resolve();
      }
    };
    raw.on('data', onData);
    raw.once('error', reject);
  });
  return new Promise<string>((resolve) => {
    let out = '';
    let done = false;
    const finish = (text: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      raw.destroy();
      resolve(text);
    };
    const socket: TLSSocket = tlsConnect({
      socket: raw,
      ca: readFileSync(ca),
      servername: 'localhost',
      ...(client === null ? {} : { cert: readFileSync(client.cert), key: readFileSync(client.key) }),
    });
    const timer = setTimeout(() => finish(out), waitMs);
    socket.once('secureConnect', () => socket.write(send));
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (out.includes('PONG\r\n')) finish(out);
    });
    socket.once('error', () => finish(out === '' ? '<closed>' : out));
    socket.once('close', () => finish(out === '' ? '<closed>' : out));
  });
}

/** What a websocket client attempt saw: the INFO (null when none came) and every byte after it. */
export interface WsAttemptResult {
  readonly info: Record<string, unknown> | null;
  readonly out: string;
}

/**
 * One websocket client attempt (`ws://` or `wss://` trusting `ca`): waits for INFO, sends `send`
 * and collects the answers until a PONG, the close, or `waitMs`. A refused handshake gives
 * `{ info: null, out: '<closed>' }`. `cookie`: the upgrade request's Cookie header.
 */
export function wsAttempt(url: string, ca: string, send: string, opts: { cert?: CertFiles; cookie?: string; waitMs?: number } = {}): Promise<WsAttemptResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, {
      ca: readFileSync(ca),
      ...(opts.cert === undefined ? {} : { cert: readFileSync(opts.cert.cert), key: readFileSync(opts.cert.key) }),
      ...(opts.cookie === undefined ? {} : { headers: { Cookie: opts.cookie } }),
    });
    let info: Record<string, unknown> | null = null;
    let out = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.terminate();
      resolve({ info, out: out === '' ? '<closed>' : out });
    };
    const timer = setTimeout(finish, opts.waitMs ?? 1500);
    ws.on('message', (data: Buffer) => {
      let text = data.toString('latin1');
      if (info === null && text.startsWith('INFO ')) {
        const end = text.indexOf('\r\n');
        info = JSON.parse(text.slice(5, end)) as Record<string, unknown>;
        text = text.slice(end + 2);
        ws.send(send);
      }
      out += text;
      if (out.includes('PONG\r\n')) finish();
    });
    ws.on('error', finish);
    ws.on('close', finish);
  });
}
