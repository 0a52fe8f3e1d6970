// The reliability suite's harness: the relay as a child process the way it is deployed
// (`bin/sigops relay` on a git clone of the config, --max-semi-space-size=4), a load generator
// that behaves like Exchange Online (persistent STARTTLS connections, a tenant sender, the
// tenant header, retries with back-off after 4xx or a lost connection), and a ledger that says
// for every message what the sender was told and how often the next hop got it.
//
// Every message carries a unique sequence number twice: in the header `X-Sigops-Seq` and in its
// envelope recipient (`bob+<seq>@example.org`), so the next hop (test/fakes/faulty-next-hop.ts)
// can count deliveries per message and notice a body delivered under another message's envelope.
//
// Length: SIGOPS_RELIABILITY=full runs every case at full length (`npm run soak`); anything
// else is the short form `npm test` runs (each case once, a few seconds each).
// SIGOPS_RELIABILITY_REPORT=<file>: each case appends its figures there (JSON lines) for
// scripts/soak.mjs to put into RELIABILITY.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import nodemailer from 'nodemailer';
import { simpleGit } from 'simple-git';
import { testCertificate } from '../fakes/next-hop.ts';
import { PROJECT } from '../e2e/relay-process.ts';

export { PROJECT };

// ---- length ---------------------------------------------------------------------------------

export type Length = 'short' | 'full';
export const LENGTH: Length = process.env.SIGOPS_RELIABILITY === 'full' ? 'full' : 'short';

/** The short or the full value, by the suite's length. */
export function byLength<T>(short: T, full: T): T {
  return LENGTH === 'full' ? full : short;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `promise`, or undefined after `ms` (the timer does not keep the process alive). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}

/** Polls until `check` holds; fails after `timeoutMs` (no fixed sleeps where a condition exists). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A free loopback port (for a relay that must come back on the same port after a restart). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- the test tenant and its mail -----------------------------------------------------------

/** Contoso of example-config: its tenant id and a sender of one of its domains. */
export const TENANT_ID = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
export const SENDER = 'alice@contoso.com';

/** The envelope recipient that carries a message's sequence number. */
export const recipientFor = (seq: string): string => `bob+${seq}@example.org`;

/**
 * The corpus mix: every message of the shared corpus when it is checked out beside the project
 * (or SIGOPS_CORPUS), plus the fixtures of test/fixtures/mail; tenant headers they already
 * carry are taken out of the head (the load generator adds exactly one).
 */
export async function mailMix(): Promise<{ readonly names: readonly string[]; readonly messages: readonly Buffer[] }> {
  const files: string[] = [];
  files.push(...(await import('../corpus.ts')).corpusFiles());
  const fixtures = join(PROJECT, 'test', 'fixtures', 'mail');
  for (const n of readdirSync(fixtures).sort()) if (n.endsWith('.eml')) files.push(join(fixtures, n));
  const messages = files.map((f) => {
    const raw = readFileSync(f).toString('latin1');
    const split = /\r?\n\r?\n/.exec(raw);
    const end = split ? split.index : raw.length;
    const head = raw.slice(0, end).replace(/^X-MS-Exchange-CrossTenant-Id:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim, '');
    return Buffer.from(head + raw.slice(end), 'latin1');
  });
  return { names: files.map((f) => f.slice(PROJECT.length)), messages };
}

// ---- the config repository ------------------------------------------------------------------

/** A git repository holding a copy of example-config (one commit), in `dir/config`. */
export async function configRepo(dir: string): Promise<string> {
  const cfg = join(dir, 'config');
  await cp(join(PROJECT, 'example-config'), cfg, { recursive: true });
  const git = simpleGit(cfg);
  await git.init(['--initial-branch=main']);
  await git.addConfig('user.email', 'reliability@example.org').addConfig('user.name', 'reliability');
  await git.add('.');
  await git.commit('initial');
  return cfg;
}

// ---- the relay as a process -----------------------------------------------------------------

export interface RelayChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Log lines other than the one line per message, parsed (the last 2,000). */
  readonly logs: Array<Record<string, unknown>>;
  /** How many log lines of each message text (`relayed`, `refused`, …). */
  readonly logCounts: Map<string, number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode(): number | null;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM and wait (SIGKILL after `ms`). */
  stop(ms?: number): Promise<void>;
}

export interface RelayStart {
  /** Scratch folder of the case: certificates, state. */
  readonly dir: string;
  /** Where it delivers (the next hop) and that hop's certificate. */
  readonly nextHop: { readonly port: number; readonly cert: Buffer };
  /** --config DIR (default: a fresh clone made by configRepo in `dir`). */
  readonly config?: string;
  /** --repo URL with --pull-interval (seconds); the clone goes to `config`. */
  readonly repo?: { readonly url: string; readonly pullInterval: number };
  /** A fixed SMTP port (to restart on the same one); default ephemeral. */
  readonly port?: number;
  /** --deliver-timeout in seconds (default 3). */
  readonly deliverTimeout?: number;
  readonly drainTimeout?: number;
  /** More command-line options. */
  readonly args?: readonly string[];
}

const SILENT_LINES = new Set(['relayed']);

/** Starts `node --max-semi-space-size=4 bin/sigops relay …` and resolves once it listens. */
export async function startRelay(o: RelayStart): Promise<RelayChild> {
  const tls = await testCertificate();
  await writeFile(join(o.dir, 'hop-ca.pem'), o.nextHop.cert);
  await writeFile(join(o.dir, 'relay.crt'), tls.cert);
  await writeFile(join(o.dir, 'relay.key'), tls.key);
  const config = o.config ?? (o.repo ? join(o.dir, 'clone') : await configRepo(o.dir));
  const args = [
    '--max-semi-space-size=4', 'bin/sigops', 'relay',
    '--config', config,
    ...(o.repo ? ['--repo', o.repo.url, '--branch', 'main', '--pull-interval', String(o.repo.pullInterval)] : []),
    '--listen', `127.0.0.1:${o.port ?? 0}`, '--http', '127.0.0.1:0', '--hostname', 'relay.reliability.test',
    '--tls-cert', join(o.dir, 'relay.crt'), '--tls-key', join(o.dir, 'relay.key'),
    '--deliver', `smtp://127.0.0.1:${o.nextHop.port}`, '--deliver-ca', join(o.dir, 'hop-ca.pem'),
    '--deliver-timeout', String(o.deliverTimeout ?? 3), '--drain-timeout', String(o.drainTimeout ?? 10),
    '--state', join(o.dir, 'state'),
    ...(o.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: PROJECT, env: { ...process.env, SIGOPS_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const logCounts = new Map<string, number>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = once(child, 'exit').then(([code, signal]) => (exit = { code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      const msg = String(entry.msg);
      logCounts.set(msg, (logCounts.get(msg) ?? 0) + 1);
      if (!SILENT_LINES.has(msg)) {
        logs.push(entry);
        if (logs.length > 2000) logs.splice(0, logs.length - 2000);
      }
      if (msg === 'relay listening') resolve(entry);
    });
    void exited.then((e) => reject(new Error(`relay exited (${e.code ?? e.signal}) before listening: ${logs.map((l) => l.msg).join(' | ')}`)));
  });
  const entry = await listening;
  const port = (v: unknown) => Number(String(v).split(':').pop());
  const relay: RelayChild = {
    child,
    pid: child.pid!,
    smtpPort: port(entry.smtp),
    httpPort: port(entry.http),
    logs,
    logCounts,
    exited,
    exitCode: () => exit?.code ?? null,
    kill: (signal = 'SIGTERM') => {
      if (!exit) child.kill(signal);
    },
    async stop(ms = 15_000) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
  return relay;
}

/** The relay's /metrics as name{labels} → value. */
export async function scrapeMetrics(relay: RelayChild): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export async function health(relay: RelayChild): Promise<{ generation: number; lastReload?: { ok: boolean; trigger: string; errors?: string[] } }> {
  const body = (await (await fetch(`http://127.0.0.1:${relay.httpPort}/healthz`)).json()) as { config: { generation: number; lastReload?: { ok: boolean; trigger: string; errors?: string[] } } };
  return body.config;
}

// ---- samples: memory and event loop ----------------------------------------------------------

export interface Sample {
  /** Seconds since sampling started. */
  readonly t: number;
  /** Resident set size (/proc/<pid>/status VmRSS), MB. */
  readonly rssMb: number;
  /** Event-loop delay since the previous sample (prom-client's monitorEventLoopDelay, 10 ms resolution), ms. */
  readonly loopMeanMs: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly inFlight: number;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Samples the relay every `everyMs` until stopped. */
export function sampleRelay(relay: RelayChild, everyMs: number): { readonly samples: Sample[]; stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let stopped = false;
  const loop = (async () => {
    await scrapeMetrics(relay).catch(() => undefined); // starts a fresh event-loop window
    while (!stopped) {
      await sleep(everyMs);
      try {
        const m = await scrapeMetrics(relay);
        samples.push({
          t: (performance.now() - t0) / 1000,
          rssMb: rssMb(relay.pid),
          loopMeanMs: (m.get('sigops_nodejs_eventloop_lag_mean_seconds') ?? NaN) * 1000,
          loopP99Ms: (m.get('sigops_nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000,
          loopMaxMs: (m.get('sigops_nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000,
          inFlight: m.get('sigops_relay_messages_in_flight') ?? NaN,
        });
      } catch {
        // the relay is gone: the case says what that means
      }
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * Theil–Sen slope of y over x: the median of the slopes between every two points. A trend
 * estimate that a few outliers (a 1 MB message, a collection) do not move, unlike least squares.
 */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const [x1, y1] = points[i]!;
      const [x2, y2] = points[j]!;
      if (x2 !== x1 && Number.isFinite(y1) && Number.isFinite(y2)) slopes.push((y2 - y1) / (x2 - x1));
    }
  }
  slopes.sort((a, b) => a - b);
  return slopes.length === 0 ? 0 : slopes[Math.floor((slopes.length - 1) / 2)]!;
}

// ---- the ledger -------------------------------------------------------------------------------

/** What one attempt to hand a message to the relay ended with. */
export type AttemptOutcome =
  | 'acknowledged' // 2xx after DATA
  | 'deferred' // 4xx at any step
  | 'rejected' // 5xx at any step
  | 'unreachable' // no connection to the relay at all (refused: it is not running)
  | 'no-answer'; // the connection failed or was cut before the final reply

export interface Attempt {
  readonly outcome: AttemptOutcome;
  /** The reply's code and enhanced code (`451 4.4.1`), or the client's error code. */
  readonly reply: string;
  readonly text: string;
  readonly ms: number;
}

export interface LedgerEntry {
  readonly seq: string;
  readonly attempts: Attempt[];
  state: 'pending' | 'acknowledged' | 'rejected' | 'gave-up';
}

/** What the next hop reports back to the ledger. */
export interface DeliveryRecord {
  readonly accepted: ReadonlyMap<string, number>;
  readonly refused: ReadonlySet<string>;
  readonly mismatched: readonly string[];
}

export interface Counts {
  /** Distinct messages the generator made. */
  readonly sent: number;
  readonly attempts: number;
  /** Messages that got a 2xx in the end. */
  readonly acknowledged: number;
  /** Attempts answered 4xx (retried). */
  readonly deferred: number;
  /** Attempts cut off without a final reply (retried). */
  readonly noAnswer: number;
  /** Attempts that found no relay listening (retried). */
  readonly unreachable: number;
  /** Messages that got a 5xx in the end (not retried). */
  readonly rejected: number;
  /** Of those, messages the next hop never gave a 5xx verdict on: must be 0. */
  readonly rejectedWithoutVerdict: number;
  /** Messages still unanswered when the case's deadline came. */
  readonly gaveUp: number;
  /** Distinct messages the next hop accepted. */
  readonly delivered: number;
  /** Extra copies at the next hop: an earlier attempt reached it but the sender was not told 2xx. */
  readonly duplicated: number;
  /** Copies beyond what failed attempts explain (a message delivered twice from one attempt): must be 0. */
  readonly duplicatedUnexplained: number;
  /** Acknowledged but never delivered: must be 0. */
  readonly lost: number;
  /** A body delivered under another message's envelope: must be 0. */
  readonly mismatched: number;
  /** The longest single attempt, seconds. */
  readonly longestAttemptS: number;
  /** Attempts by reply (`250`, `451 4.4.1`, `ECONNECTION` …). */
  readonly replies: Readonly<Record<string, number>>;
  /** The first full reply text of each kind, to read what the sender was told. */
  readonly examples: Readonly<Record<string, string>>;
}

export class Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  private n = 0;

  /** `run` prefixes every sequence number of this ledger (one ledger per case). */
  constructor(readonly run: string) {
    if (!/^[\w.]+$/.test(run)) throw new Error(`run id ${run}: letters, digits, _ and . only`);
  }

  newMessage(): LedgerEntry {
    const entry: LedgerEntry = { seq: `${this.run}-${++this.n}`, attempts: [], state: 'pending' };
    this.entries.set(entry.seq, entry);
    return entry;
  }

  counts(hop: DeliveryRecord): Counts {
    let attempts = 0, acknowledged = 0, deferred = 0, noAnswer = 0, unreachable = 0, rejected = 0, rejectedWithoutVerdict = 0, gaveUp = 0;
    let delivered = 0, duplicated = 0, duplicatedUnexplained = 0, lost = 0, longest = 0;
    const replies: Record<string, number> = {};
    const examples: Record<string, string> = {};
    for (const e of this.entries.values()) {
      attempts += e.attempts.length;
      for (const a of e.attempts) {
        replies[a.reply] = (replies[a.reply] ?? 0) + 1;
        examples[a.reply] ??= a.text;
        if (a.outcome === 'deferred') deferred++;
        if (a.outcome === 'no-answer') noAnswer++;
        if (a.outcome === 'unreachable') unreachable++;
        longest = Math.max(longest, a.ms);
      }
      const copies = hop.accepted.get(e.seq) ?? 0;
      if (copies > 0) delivered++;
      if (copies > 1) duplicated += copies - 1;
      // each attempt that reached the relay can put at most one copy at the next hop; all but the
      // acknowledged one were answered otherwise (or not at all): how a sender gets a duplicate
      const reached = e.attempts.filter((a) => a.outcome !== 'unreachable').length;
      if (copies > reached) duplicatedUnexplained += copies - reached;
      if (e.state === 'acknowledged') {
        acknowledged++;
        if (copies === 0) lost++;
      }
      if (e.state === 'rejected') {
        rejected++;
        if (!hop.refused.has(e.seq)) rejectedWithoutVerdict++;
      }
      if (e.state === 'gave-up' || e.state === 'pending') gaveUp++;
    }
    const mismatched = hop.mismatched.filter((m) => m.startsWith(`${this.run}-`) || m.startsWith('(no seq')).length;
    return {
      sent: this.entries.size, attempts, acknowledged, deferred, noAnswer, unreachable, rejected, rejectedWithoutVerdict, gaveUp,
      delivered, duplicated, duplicatedUnexplained, lost, mismatched, longestAttemptS: longest / 1000, replies, examples,
    };
  }
}

/** The replies of a case in one line (`250×812, 451 4.4.1×30`). */
export function formatReplies(replies: Readonly<Record<string, number>>): string {
  return Object.entries(replies).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r}×${n}`).join(', ');
}

// ---- the load generator ----------------------------------------------------------------------

export interface LoadOptions {
  /** The relay's SMTP port (a fixed one when the relay restarts during the case). */
  readonly port: number;
  /** Persistent connections (Exchange keeps several open to a smart host). */
  readonly connections: number;
  /** New messages per second; undefined = as fast as the connections take them. */
  readonly rate?: number;
  readonly ledger: Ledger;
  readonly mix: readonly Buffer[];
  /** Retry back-off after 4xx or no answer: first wait, doubling up to `maxMs`. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** The client's idle timeout per connection (longer than the relay's towards the next hop). */
  readonly socketTimeoutMs?: number;
}

interface Job {
  readonly entry: LedgerEntry;
  readonly raw: Buffer;
  due: number;
}

/**
 * Sends the mix through the relay like Exchange Online: each message until it gets 2xx or 5xx,
 * retrying 4xx and lost connections with back-off. `start()`, then whatever the case does, then
 * `finish()`, which stops new messages and waits for the retries (up to a deadline).
 */
export class LoadGenerator {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;
  private readonly retries: Job[] = [];
  private generating = false;
  private stopAt = Infinity;
  private nextNewAt = 0;
  private inFlight = 0;
  private workers: Array<Promise<void>> = [];
  private made = 0;
  /** Times (performance.now) of each 2xx, for rates. */
  readonly acks: number[] = [];

  constructor(private readonly o: LoadOptions) {
    this.transport = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port: o.port,
      secure: false,
      requireTLS: true,
      maxConnections: o.connections,
      maxMessages: Infinity,
      tls: { rejectUnauthorized: false },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: o.socketTimeoutMs ?? 30_000,
    });
  }

  start(): this {
    this.generating = true;
    this.nextNewAt = performance.now();
    for (let i = 0; i < this.o.connections; i++) this.workers.push(this.work());
    return this;
  }

  /** 2xx per second over the last `ms`. */
  rate(ms: number): number {
    const since = performance.now() - ms;
    let n = 0;
    for (let i = this.acks.length - 1; i >= 0 && this.acks[i]! >= since; i--) n++;
    return n / (ms / 1000);
  }

  /** Stops making new messages; waits for every message to end, at most `deadlineMs`; then gives up on the rest. */
  async finish(deadlineMs: number): Promise<void> {
    this.generating = false;
    this.stopAt = performance.now() + deadlineMs;
    await Promise.all(this.workers);
    for (const job of this.retries.splice(0)) job.entry.state = 'gave-up';
    this.transport.close();
  }

  private async work(): Promise<void> {
    for (;;) {
      const job = await this.nextJob();
      if (!job) return;
      this.inFlight++;
      try {
        await this.attempt(job);
      } finally {
        this.inFlight--;
      }
    }
  }

  private async nextJob(): Promise<Job | undefined> {
    for (;;) {
      const now = performance.now();
      if (now > this.stopAt) return undefined;
      this.retries.sort((a, b) => a.due - b.due);
      if (this.retries[0] && this.retries[0].due <= now) return this.retries.shift();
      // as fast as it goes means as fast as messages get through: no new ones while retries pile up
      const room = this.o.rate !== undefined || this.retries.length < this.o.connections;
      if (this.generating && now >= this.nextNewAt && room) {
        if (this.o.rate) this.nextNewAt = Math.max(this.nextNewAt + 1000 / this.o.rate, now - 1000); // no burst after a stall
        const entry = this.o.ledger.newMessage();
        const body = this.o.mix[this.made++ % this.o.mix.length]!;
        const raw = Buffer.concat([Buffer.from(`X-Sigops-Seq: ${entry.seq}\r\nX-MS-Exchange-CrossTenant-Id: ${TENANT_ID}\r\n`), body]);
        return { entry, raw, due: now };
      }
      if (!this.generating && this.retries.length === 0 && this.inFlight === 0) return undefined;
      const wake = Math.min(this.retries[0]?.due ?? Infinity, this.generating ? this.nextNewAt : Infinity, now + 20);
      await sleep(Math.max(1, wake - now));
    }
  }

  private async attempt(job: Job): Promise<void> {
    const { entry } = job;
    const t0 = performance.now();
    let attempt: Attempt;
    try {
      const info = (await this.transport.sendMail({ envelope: { from: SENDER, to: [recipientFor(entry.seq)] }, raw: job.raw })) as { response?: string };
      const response = info.response ?? '';
      attempt = { outcome: response.startsWith('2') ? 'acknowledged' : 'no-answer', reply: replyKey(response), text: response.slice(0, 200), ms: performance.now() - t0 };
    } catch (err) {
      const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
      const code = e.responseCode;
      const text = (e.response ?? e.message ?? '').slice(0, 200);
      const outcome: AttemptOutcome = typeof code === 'number' && code >= 500 ? 'rejected'
        : typeof code === 'number' && code >= 400 ? 'deferred'
          : /ECONNREFUSED/.test(text) ? 'unreachable' : 'no-answer';
      attempt = { outcome, reply: e.response ? replyKey(e.response) : outcome === 'unreachable' ? 'ECONNREFUSED' : e.code ?? 'error', text, ms: performance.now() - t0 };
    }
    entry.attempts.push(attempt);
    if (attempt.outcome === 'acknowledged') {
      entry.state = 'acknowledged';
      this.acks.push(performance.now());
    } else if (attempt.outcome === 'rejected') {
      entry.state = 'rejected';
    } else {
      const back = this.o.retry ?? { firstMs: 200, maxMs: 2000 };
      job.due = performance.now() + Math.min(back.maxMs, back.firstMs * 2 ** (entry.attempts.length - 1));
      this.retries.push(job);
    }
  }
}

function replyKey(response: string): string {
  const m = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3})\b)?/.exec(response);
  if (!m) return response.slice(0, 20) || 'empty';
  return m[1]!.startsWith('2') ? m[1]! : [m[1], m[2]].filter(Boolean).join(' ');
}

// ---- figures -----------------------------------------------------------------------------------

/** Appends a row of figures to the report file scripts/soak.mjs reads (when it runs the suite). */
export function recordFigures(table: string, row: Readonly<Record<string, string | number>>): void {
  const file = process.env.SIGOPS_RELIABILITY_REPORT;
  if (file) appendFileSync(file, JSON.stringify({ table, length: LENGTH, row }) + '\n');
}
