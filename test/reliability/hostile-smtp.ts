// Pieces the hostile-input and spoofing tests share: the run length (SIGOPS_RELIABILITY), an
// in-process relay in front of a next hop that records the raw bytes it is sent, and a raw
// SMTP session over STARTTLS (nodemailer normalises line endings, so it cannot send the bare
// CR/LF of an SMTP smuggling attempt).
//
// The next hop can be *lenient*: it then ends DATA at any of the malformed end-of-data
// sequences that vulnerable MTAs accepted (bare LF or CR around the dot, NUL bytes next to it)
// and executes whatever follows as commands, as Postfix, Sendmail and Exim did before
// CVE-2023-51764/51765/51766. If the relay ever forwarded such a sequence, this next hop would
// record a second, smuggled message.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log/index.ts';
import type { Policy } from '../../src/policy/types.ts';
import { AllowList } from '../../src/relay/allowlist.ts';
import type { ClientCertificatePolicy } from '../../src/relay/client-cert.ts';
import { SmtpDelivery } from '../../src/relay/delivery.ts';
import { RelayMetrics } from '../../src/relay/metrics.ts';
import { PolicyStore, type PolicyLoadResult } from '../../src/relay/policy-store.ts';
import { Relay, type RelayLimits } from '../../src/relay/server.ts';
import { testCertificate } from '../fakes/next-hop.ts';
import { makePolicy, RawSmtp, standardTenants } from '../relay/helpers.ts';

/** `SIGOPS_RELIABILITY=full` runs every case at full length; the default runs each case once. */
export const FULL = process.env.SIGOPS_RELIABILITY === 'full';

/** One mail transaction as the next hop understood it. */
export interface HopTransaction {
  readonly from: string;
  readonly to: string[];
  /** The DATA payload exactly as it came over the wire (still dot-stuffed), up to the end the hop recognised. */
  readonly wire: Buffer;
  readonly connection: number;
}

export interface WireNextHop {
  readonly port: number;
  readonly cert: Buffer;
  readonly lenient: boolean;
  readonly transactions: HopTransaction[];
  /** Every command line received after STARTTLS, all connections, in order. */
  readonly commands: string[];
  close(): Promise<void>;
}

const CR = 13;
const LF = 10;
const DOT = 46;
const NUL = 0;

/**
 * Where DATA ends for this hop: `{ end, next }` (payload = buf[0, end), commands resume at
 * `next`), or undefined while more bytes are needed. Strict: CRLF "." CRLF only. Lenient: a
 * dot alone on a line, with NULs around it, between any of CRLF, bare CR or bare LF. `atStart`:
 * `buf` begins where DATA does (else it begins somewhere inside the data).
 */
export function endOfData(buf: Buffer, lenient: boolean, atStart = true): { end: number; next: number } | undefined {
  if (!lenient) {
    if (atStart && buf.length >= 3 && buf[0] === DOT && buf[1] === CR && buf[2] === LF) return { end: 0, next: 3 };
    const i = buf.indexOf('\r\n.\r\n', 0, 'latin1');
    return i < 0 ? undefined : { end: i + 2, next: i + 5 };
  }
  for (let i = buf.indexOf(DOT); i >= 0; i = buf.indexOf(DOT, i + 1)) {
    let j = i - 1;
    while (j >= 0 && buf[j] === NUL) j--;
    if (j < 0 ? !atStart : buf[j] !== CR && buf[j] !== LF) continue;
    let k = i + 1;
    while (k < buf.length && buf[k] === NUL) k++;
    if (k >= buf.length) return undefined; // the rest of this line has not arrived yet
    if (buf[k] === LF) return { end: j + 1, next: k + 1 };
    if (buf[k] !== CR) continue;
    if (k + 1 >= buf.length) return undefined; // CR or CRLF: wait for the next byte
    return { end: j + 1, next: buf[k + 1] === LF ? k + 2 : k + 1 };
  }
  return undefined;
}

/** A raw next hop (STARTTLS on the test certificate) that records wire bytes and commands. */
export async function startWireNextHop(options: { lenient?: boolean } = {}): Promise<WireNextHop> {
  const tls = await testCertificate();
  const lenient = options.lenient ?? false;
  const sockets = new Set<Socket>();
  const transactions: HopTransaction[] = [];
  const commands: string[] = [];
  let connections = 0;
  const server: Server = createServer((plain) => {
    const connection = ++connections;
    sockets.add(plain);
    plain.on('close', () => sockets.delete(plain));
    plain.on('error', () => undefined);
    let sock: Socket = plain;
    let secure = false;
    let buf: Buffer = Buffer.alloc(0);
    let data = false;
    let from = '';
    let to: string[] = [];
    const reply = (line: string) => {
      if (!sock.destroyed) sock.write(line + '\r\n');
    };
    // DATA is kept as a list of chunks and only the newest bytes are searched for its end (with
    // a window of what came before): large messages cost linear time, not quadratic
    let dataChunks: Buffer[] = [];
    let dataLen = 0;
    let tail: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      if (data) return feed(chunk);
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      run();
    };
    const feed = (chunk: Buffer): void => {
      const look = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      const offset = dataLen - tail.length;
      const e = endOfData(look, lenient, offset === 0);
      dataChunks.push(chunk);
      dataLen += chunk.length;
      if (!e) {
        tail = Buffer.from(look.subarray(Math.max(0, look.length - 1024)));
        return;
      }
      const all = Buffer.concat(dataChunks, dataLen);
      transactions.push({ from, to, wire: all.subarray(0, offset + e.end), connection });
      buf = Buffer.from(all.subarray(offset + e.next));
      dataChunks = [];
      dataLen = 0;
      tail = Buffer.alloc(0);
      data = false;
      from = '';
      to = [];
      reply('250 2.0.0 queued by wire next hop');
      run();
    };
    const run = (): void => {
      for (;;) {
        // commands end at LF (CRLF or bare LF); a lenient hop also ends them at a bare CR
        let nl = buf.indexOf(LF);
        if (lenient) {
          const cr = buf.indexOf(CR);
          if (cr >= 0 && (nl < 0 || cr < nl - 1)) nl = cr;
        }
        if (nl < 0) return;
        const line = buf.toString('latin1', 0, nl).replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        if (secure) commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') {
          reply('250-hop.test');
          reply('250-PIPELINING');
          reply('250-8BITMIME');
          if (!secure) reply('250-STARTTLS');
          reply('250 SMTPUTF8');
        } else if (line.toUpperCase() === 'STARTTLS' && !secure) {
          reply('220 2.0.0 ready');
          plain.removeListener('data', onData);
          buf = Buffer.alloc(0); // nothing sent before the handshake counts (STARTTLS injection)
          const t = new TLSSocket(plain, { isServer: true, key: tls.key, cert: tls.cert });
          t.on('error', () => undefined);
          t.on('data', onData);
          sock = t;
          secure = true;
          return;
        } else if (verb === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          to = [];
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          reply('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          data = true;
          reply('354 go ahead');
          const rest = buf;
          buf = Buffer.alloc(0);
          if (rest.length > 0) feed(rest);
          return;
        } else if (verb === 'RSET') {
          from = '';
          to = [];
          reply('250 2.0.0 ok');
        } else if (verb === 'NOOP') {
          reply('250 2.0.0 ok');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          sock.end();
          return;
        } else {
          reply('500 5.5.2 unknown command');
        }
      }
    };
    plain.on('data', onData);
    reply('220 hop.test ESMTP wire next hop');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    cert: tls.cert,
    lenient,
    transactions,
    commands,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** What goes wrong on the wire towards the next hop, if anything (undefined = clean). */
export function wireProblem(wire: Buffer): string | undefined {
  for (let i = 0; i < wire.length; i++) {
    const b = wire[i]!;
    if (b === CR && wire[i + 1] !== LF) return `bare CR at ${i}`;
    if (b === LF && wire[i - 1] !== CR) return `bare LF at ${i}`;
  }
  // a line a NUL-stripping receiver would read as the end of data
  const lines = wire.toString('latin1').split('\r\n');
  const k = lines.findIndex((l) => /^\x00*\.\x00*$/.test(l) && l !== '.');
  if (k >= 0) return `line ${k + 1} is a dot with NUL bytes around it`;
  if (lines.some((l) => l === '.')) return 'an unstuffed dot line';
  return undefined;
}

export interface HostileRelay {
  readonly relay: Relay;
  readonly port: number;
  readonly metrics: RelayMetrics;
  stop(): Promise<void>;
}

/** The relay in-process, delivering to `hop` (the tenants of test/relay/helpers.ts unless `policy`). */
export async function startRelay(o: {
  hop: { port: number; cert: Buffer };
  limits?: Partial<RelayLimits>;
  allow?: string[];
  policy?: Policy;
  clientCertificate?: ClientCertificatePolicy;
}): Promise<HostileRelay> {
  const log = silentLogger();
  const metrics = new RelayMetrics();
  const result: PolicyLoadResult = { ok: true, policy: o.policy ?? makePolicy(standardTenants()), warnings: [] };
  const store = new PolicyStore('/nonexistent', log, metrics, async () => result);
  await store.reload('startup');
  const delivery = new SmtpDelivery({
    override: { host: '127.0.0.1', port: o.hop.port },
    name: 'relay.test',
    ca: o.hop.cert,
    connectionTimeoutMs: 5000,
    greetingTimeoutMs: 5000,
    socketTimeoutMs: 10_000,
  });
  const relay = new Relay({
    listen: { host: '127.0.0.1', port: 0 },
    hostname: 'relay.test',
    tls: await testCertificate(),
    store,
    delivery,
    log,
    metrics,
    allow: o.allow ? new AllowList(o.allow) : undefined,
    limits: o.limits,
    ...(o.clientCertificate ? { clientCertificate: o.clientCertificate } : {}),
  });
  const { port } = await relay.start();
  return {
    relay,
    port,
    metrics,
    async stop() {
      await relay.shutdown(1000);
      await store.close();
      await delivery.close();
    },
  };
}

/** A STARTTLS session ready for MAIL FROM, as Exchange Online opens one. */
export async function tlsSession(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.open(port);
  await c.cmd('EHLO outbound.protection.outlook.test');
  await c.starttls();
  const ehlo = await c.cmd('EHLO outbound.protection.outlook.test');
  if (!ehlo.startsWith('250')) throw new Error(`EHLO after STARTTLS: ${ehlo}`);
  return c;
}

/** Reads `n` replies (pipelined commands get one each, in order); a stalled session fails after `ms`. */
export async function replies(c: RawSmtp, n: number, ms = 30_000): Promise<string[]> {
  const out: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`session stalled after ${out.length} of ${n} replies: ${out.slice(-3).join(' | ')}`)), ms);
  });
  try {
    for (let i = 0; i < n; i++) out.push(await Promise.race([c.reply(), stalled]));
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Polls until `check` holds (no fixed sleeps), failing after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts what a test file tried, printed as a test diagnostic for RELIABILITY.md. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }
  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }
  toString(): string {
    return [...this.counts].map(([k, v]) => `${k}=${v}`).join(' ') + ` total=${this.total} (${FULL ? 'full' : 'short'})`;
  }
}

/** One transaction on an open session: the final reply, or the first refusal on the way. */
export async function transaction(c: RawSmtp, from: string, to: readonly string[], data: string | Buffer): Promise<string> {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) return mail;
  for (const r of to) {
    const rcpt = await c.cmd(`RCPT TO:<${r}>`);
    if (!rcpt.startsWith('250')) return rcpt;
  }
  const go = await c.cmd('DATA');
  if (!go.startsWith('354')) return go;
  const raw = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const s = raw.toString('latin1');
  const stuffed = (s.startsWith('.') ? '.' : '') + s.replace(/\r\n\./g, '\r\n..');
  c.socket.write(Buffer.from(stuffed + (stuffed.endsWith('\r\n') ? '' : '\r\n') + '.\r\n', 'latin1'));
  return c.reply();
}

export const PROJECT = fileURLToPath(new URL('../..', import.meta.url));

export interface RelayChild {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The relay as its own process (hostile-relay-child.ts), with example-config, delivering to
 * `hop`, run with the young-generation setting production uses (docs/relay.md, Performance).
 */
export async function startRelayChild(o: { hop: { port: number; cert: Buffer }; limits?: Partial<RelayLimits> }): Promise<RelayChild> {
  const stateDir = await mkdtemp(join(tmpdir(), 'sigops-hostile-state-'));
  const options = { config: join(PROJECT, 'example-config'), stateDir, hopPort: o.hop.port, hopCa: o.hop.cert.toString(), limits: o.limits };
  const child = spawn(process.execPath, ['--max-semi-space-size=4', '--import', 'tsx', join(PROJECT, 'test', 'reliability', 'hostile-relay-child.ts'), JSON.stringify(options)], {
    cwd: PROJECT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { smtp: number }).smtp));
    void exited.then(([code]) => reject(new Error(`relay child exited with ${String(code)} before listening: ${stderr}`)));
  });
  return {
    port,
    pid: child.pid!,
    child,
    async peakRssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
      return Math.round(kb / 1024);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * One transaction whose message is written piece by piece with backpressure (never held whole
 * in the test). The pieces must already be dot-stuffed; the end of data is added here.
 */
export async function streamTransaction(c: RawSmtp, from: string, to: readonly string[], pieces: Iterable<Buffer | string>): Promise<string> {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) return mail;
  for (const r of to) {
    const rcpt = await c.cmd(`RCPT TO:<${r}>`);
    if (!rcpt.startsWith('250')) return rcpt;
  }
  const go = await c.cmd('DATA');
  if (!go.startsWith('354')) return go;
  const sock = c.socket;
  let last: Buffer = Buffer.alloc(0);
  for (const piece of pieces) {
    if (sock.destroyed) break;
    const b = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
    if (b.length > 0) last = b;
    if (!sock.write(b)) {
      await new Promise<void>((resolve) => {
        const go = (): void => {
          sock.off('drain', go);
          sock.off('close', go);
          resolve();
        };
        sock.on('drain', go);
        sock.on('close', go);
      });
    }
  }
  const crlf = last.length >= 2 && last[last.length - 2] === CR && last[last.length - 1] === LF;
  if (!sock.destroyed) sock.write(crlf ? '.\r\n' : '\r\n.\r\n');
  return c.reply();
}

/** The message the engine produced, as the next hop got it: dots unstuffed, the relay's Received line removed. */
export function engineOutput(wire: Buffer): Buffer {
  const s = wire.toString('latin1').replace(/(^|\r\n)\.\./g, '$1.');
  const m = /^Received: from [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*/.exec(s);
  if (!m) throw new Error('the relay did not prepend its Received line');
  return Buffer.from(s.slice(m[0].length), 'latin1');
}

/** `input` with the engine's X-Sigops-Processed line at the end of its top-level header block (CRLF). */
export function passedUnchanged(input: Buffer): Buffer {
  const end = input.indexOf('\r\n\r\n');
  return Buffer.concat([input.subarray(0, end + 2), Buffer.from('X-Sigops-Processed: true\r\n'), input.subarray(end + 2)]);
}
