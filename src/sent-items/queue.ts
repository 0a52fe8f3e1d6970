// The Sent Items queue: jobs handed over by the relay after the next hop accepted a signed
// message, kept in the state directory so a restart resumes them, worked through by a background
// loop that nothing on the message path waits for.
//
// On disk, under <state>/sent-items/ (directory 0700, files 0600):
//   incoming/<uuid>.part   a signed copy being written (SignedCopy); removed at start-up
//   copies/<key>.eml       the signed copy of a queued job, removed when the job ends
//   jobs/<key>.json        the job (SentItemsJob), written atomically (temporary file + rename);
//                          a finished job stays as a record for the dedupe window, without copy
// The key is a hash of tenant id, sender and Internet Message-ID: one message, one job, however
// many copies Exchange split it into.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { SignedCopy } from './copy.ts';
import type { DropReason, RetryReason, SentItemsMetrics } from './metrics.ts';
import type { ReplaceOutcome } from './replace.ts';

export interface SentItemsBounds {
  /** A job not done within this time from queueing is dropped ('expired'). Default 24 h. */
  readonly maxAgeMs: number;
  /** The original must show up in Sent Items within this time ('original-not-found'). Default 15 min. */
  readonly appearWithinMs: number;
  /** Total bytes of signed copies kept; the oldest jobs are dropped to make room ('queue-full'). Default 512 MiB. */
  readonly maxTotalBytes: number;
  /** Jobs kept at most (pending). Default 10,000. */
  readonly maxJobs: number;
  /** A message larger than this is not copied ('too-large'). Default 25 MiB. */
  readonly maxCopyBytes: number;
  /**
   * The first attempt waits this long: the original needs a moment to reach Sent Items, and the
   * other copies of a message Exchange split arrive meanwhile (the external one may take over).
   * Default 20 s.
   */
  readonly firstAttemptDelayMs: number;
  /** A finished job is remembered this long, so a late copy of the same message starts no new job. Default 1 h. */
  readonly dedupeWindowMs: number;
  /** Back-off between attempts: from this, doubling … Default 5 s. */
  readonly retryBaseMs: number;
  /** … up to this. Default 10 min. */
  readonly retryMaxMs: number;
  /** Jobs worked on at once (Graph allows 4 concurrent requests per mailbox and app). Default 4. */
  readonly concurrency: number;
  /** How often the loop looks for due jobs. Default 1 s. */
  readonly tickMs: number;
}

export const DEFAULT_SENT_ITEMS_BOUNDS: SentItemsBounds = {
  maxAgeMs: 24 * 3600_000,
  appearWithinMs: 15 * 60_000,
  maxTotalBytes: 512 * 1024 * 1024,
  maxJobs: 10_000,
  maxCopyBytes: 25 * 1024 * 1024,
  firstAttemptDelayMs: 20_000,
  dedupeWindowMs: 3600_000,
  retryBaseMs: 5000,
  retryMaxMs: 10 * 60_000,
  concurrency: 4,
  tickMs: 1000,
};

/** One job as it is kept in jobs/<key>.json. Never any content of the message. */
export interface SentItemsJob {
  readonly version: 1;
  readonly key: string;
  readonly tenantId: string;
  /** The tenant's slug, for logs and metrics. */
  readonly tenant: string;
  readonly cloud?: string;
  /** The envelope sender: whose Sent Items. */
  readonly sender: string;
  /** The Message-ID header, as written (with its angle brackets). */
  readonly messageId: string;
  /** Whether the copy kept went to at least one recipient outside the tenant. */
  external: boolean;
  bytes: number;
  readonly queuedAt: number;
  attempts: number;
  notBefore: number;
  state: 'pending' | 'done';
  doneAt?: number;
}

/** What the relay hands over after the next hop accepted a signed message. */
export interface SentItemsRequest {
  readonly copy: SignedCopy;
  readonly tenantId: string;
  readonly tenant: string;
  readonly cloud?: string;
  readonly sender: string;
  readonly messageId: string;
  readonly external: boolean;
}

/** What the relay needs of the queue: a copy to tee the signed message into, and the hand-over. */
export interface SentItemsIntake {
  /** A new signed copy in incoming/; undefined when the queue is not open. */
  startCopy(): SignedCopy | undefined;
  /** Never rejects: a copy that cannot be queued is dropped with a counted reason. */
  enqueue(request: SentItemsRequest): Promise<void>;
}

export type Replacer = (job: SentItemsJob, readCopy: () => Promise<Buffer>) => Promise<ReplaceOutcome>;

export interface SentItemsQueueOptions {
  /** <state>/sent-items */
  readonly dir: string;
  readonly replacer: Replacer;
  readonly metrics: (state: () => { pending: number; bytes: number; oldestMs: number }) => SentItemsMetrics;
  readonly log: Logger;
  readonly bounds?: Partial<SentItemsBounds>;
  /** Injectable clock (tests move it by hours). */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** The job key: the same message of the same sender in the same tenant, the same key. */
export function jobKey(tenantId: string, sender: string, messageId: string): string {
  return createHash('sha256').update(`${tenantId.toLowerCase()}\n${sender.toLowerCase()}\n${messageId.trim()}`).digest('hex').slice(0, 40);
}

export class SentItemsQueue implements SentItemsIntake {
  readonly bounds: SentItemsBounds;
  readonly metrics: SentItemsMetrics;
  private readonly jobs = new Map<string, SentItemsJob>();
  private readonly running = new Set<string>();
  private readonly now: () => number;
  private readonly random: () => number;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<number> | undefined;

  constructor(private readonly o: SentItemsQueueOptions) {
    this.bounds = { ...DEFAULT_SENT_ITEMS_BOUNDS, ...o.bounds };
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.metrics = o.metrics(() => ({ pending: this.pendingJobs().length, bytes: this.totalBytes(), oldestMs: this.oldestMs() }));
  }

  private get incoming(): string {
    return join(this.o.dir, 'incoming');
  }
  private copyPath(key: string): string {
    return join(this.o.dir, 'copies', `${key}.eml`);
  }
  private jobPath(key: string): string {
    return join(this.o.dir, 'jobs', `${key}.json`);
  }

  /** Creates the folders, forgets half-written copies, and takes up the jobs a previous run left. */
  async open(): Promise<void> {
    for (const d of ['', 'incoming', 'copies', 'jobs']) await mkdir(join(this.o.dir, d), { recursive: true, mode: 0o700 });
    for (const f of await readdir(this.incoming)) await rm(join(this.incoming, f), { force: true });
    for (const f of await readdir(join(this.o.dir, 'jobs'))) {
      const path = join(this.o.dir, 'jobs', f);
      if (!f.endsWith('.json')) {
        await rm(path, { force: true }); // a temporary file of an interrupted write
        continue;
      }
      const job = parseJob(await readFile(path, 'utf8').catch(() => ''));
      if (!job || `${job.key}.json` !== f) {
        await rm(path, { force: true });
        continue;
      }
      this.jobs.set(job.key, job);
    }
    for (const job of this.pendingJobs()) {
      if (!(await stat(this.copyPath(job.key)).catch(() => undefined))) await this.drop(job, 'copy-missing');
    }
    // copies without a pending job (it ended while its copy was being removed)
    for (const f of await readdir(join(this.o.dir, 'copies'))) {
      const job = this.jobs.get(f.replace(/\.eml$/, ''));
      if (!job || job.state !== 'pending') await rm(join(this.o.dir, 'copies', f), { force: true });
    }
    this.opened = true;
    if (this.jobs.size > 0) this.o.log.info({ pending: this.pendingJobs().length }, 'sent items queue resumed');
  }

  startCopy(): SignedCopy | undefined {
    if (!this.opened) return undefined;
    return new SignedCopy({ path: join(this.incoming, `${randomUUID()}.part`), maxBytes: this.bounds.maxCopyBytes });
  }

  async enqueue(r: SentItemsRequest): Promise<void> {
    try {
      await this.accept(r);
    } catch (err) {
      await r.copy.discard();
      this.metrics.dropped.inc({ tenant: r.tenant, reason: 'disk-error' });
      this.o.log.warn({ tenant: r.tenant, sender: r.sender, err: err instanceof Error ? err.message : String(err) }, 'sent items job could not be queued');
    }
  }

  private async accept(r: SentItemsRequest): Promise<void> {
    const copy = await r.copy.done();
    if (!copy.ok) {
      this.metrics.dropped.inc({ tenant: r.tenant, reason: copy.reason });
      this.o.log.info({ tenant: r.tenant, sender: r.sender, reason: copy.reason }, 'sent items job dropped');
      return;
    }
    const key = jobKey(r.tenantId, r.sender, r.messageId);
    const existing = this.jobs.get(key);
    if (existing) {
      // Exchange split the message: one job. The external copy takes over while nothing was tried yet.
      const takeOver = existing.state === 'pending' && existing.attempts === 0 && !this.running.has(key) && r.external && !existing.external;
      if (takeOver) {
        await rename(r.copy.path, this.copyPath(key));
        existing.external = true;
        existing.bytes = copy.bytes;
        await this.persist(existing);
      } else {
        await rm(r.copy.path, { force: true });
      }
      this.metrics.dropped.inc({ tenant: r.tenant, reason: 'duplicate' });
      this.o.log.info({ tenant: r.tenant, sender: r.sender, key, kept: takeOver ? 'external copy' : 'first copy' }, 'sent items job: another copy of the same message');
      return;
    }
    // make room: the oldest pending jobs (not running) go first
    while (this.pendingJobs().length >= this.bounds.maxJobs || this.totalBytes() + copy.bytes > this.bounds.maxTotalBytes) {
      const oldest = this.pendingJobs().filter((j) => !this.running.has(j.key)).sort((a, b) => a.queuedAt - b.queuedAt)[0];
      if (!oldest) break;
      await this.drop(oldest, 'queue-full');
    }
    if (this.pendingJobs().length >= this.bounds.maxJobs || this.totalBytes() + copy.bytes > this.bounds.maxTotalBytes) {
      await rm(r.copy.path, { force: true });
      this.metrics.dropped.inc({ tenant: r.tenant, reason: 'queue-full' });
      this.o.log.warn({ tenant: r.tenant, sender: r.sender, key }, 'sent items job dropped: queue full');
      return;
    }
    const now = this.now();
    const job: SentItemsJob = {
      version: 1,
      key,
      tenantId: r.tenantId,
      tenant: r.tenant,
      ...(r.cloud ? { cloud: r.cloud } : {}),
      sender: r.sender,
      messageId: r.messageId,
      external: r.external,
      bytes: copy.bytes,
      queuedAt: now,
      attempts: 0,
      notBefore: now + this.bounds.firstAttemptDelayMs,
      state: 'pending',
    };
    await rename(r.copy.path, this.copyPath(key));
    await this.persist(job);
    this.jobs.set(key, job);
    this.metrics.queued.inc({ tenant: r.tenant });
    this.o.log.info({ tenant: r.tenant, sender: r.sender, key, bytes: copy.bytes }, 'sent items job queued');
  }

  /** Works through the jobs that are due now (at most `concurrency` at once); the number worked on. */
  async runDue(): Promise<number> {
    const now = this.now();
    for (const job of [...this.jobs.values()]) {
      if (job.state === 'done' && now - (job.doneAt ?? 0) > this.bounds.dedupeWindowMs) {
        this.jobs.delete(job.key);
        await rm(this.jobPath(job.key), { force: true });
      } else if (job.state === 'pending' && !this.running.has(job.key) && now - job.queuedAt > this.bounds.maxAgeMs) {
        await this.drop(job, 'expired');
      }
    }
    const due = this.pendingJobs()
      .filter((j) => !this.running.has(j.key) && j.notBefore <= now)
      .sort((a, b) => a.notBefore - b.notBefore)
      .slice(0, Math.max(0, this.bounds.concurrency - this.running.size));
    await Promise.all(due.map((j) => this.attempt(j)));
    return due.length;
  }

  private async attempt(job: SentItemsJob): Promise<void> {
    this.running.add(job.key);
    try {
      job.attempts++;
      let outcome: ReplaceOutcome;
      try {
        outcome = await this.o.replacer(job, () => readFile(this.copyPath(job.key)));
      } catch (err) {
        outcome = { kind: 'retry', reason: 'internal', detail: err instanceof Error ? err.message : String(err) };
      }
      const now = this.now();
      const about = { tenant: job.tenant, sender: job.sender, key: job.key, attempts: job.attempts };
      if (outcome.kind === 'done') {
        job.state = 'done';
        job.doneAt = now;
        await rm(this.copyPath(job.key), { force: true });
        await this.persist(job);
        this.metrics.done.inc({ tenant: job.tenant, result: outcome.result });
        this.metrics.age.observe({ outcome: 'done' }, (now - job.queuedAt) / 1000);
        this.o.log.info({ ...about, result: outcome.result, ageMs: now - job.queuedAt }, 'sent items job done');
        return;
      }
      if (outcome.kind === 'drop') return await this.drop(job, outcome.reason, outcome.detail);
      if (outcome.reason === 'original-not-visible' && now - job.queuedAt >= this.bounds.appearWithinMs) {
        return await this.drop(job, 'original-not-found');
      }
      const delay = Math.max(outcome.retryAfterMs ?? 0, this.backoff(job.attempts));
      if (now + delay - job.queuedAt > this.bounds.maxAgeMs) return await this.drop(job, 'expired', outcome.detail);
      job.notBefore = now + delay;
      await this.persist(job);
      this.metrics.retried.inc({ tenant: job.tenant, reason: outcome.reason });
      this.o.log[outcome.reason === 'original-not-visible' ? 'debug' : 'warn']({ ...about, reason: outcome.reason, retryInMs: delay, detail: outcome.detail }, 'sent items job will be retried');
    } finally {
      this.running.delete(job.key);
    }
  }

  private backoff(attempts: number): number {
    const exp = Math.min(this.bounds.retryMaxMs, this.bounds.retryBaseMs * 2 ** Math.max(0, attempts - 1));
    return exp / 2 + this.random() * (exp / 2);
  }

  private async drop(job: SentItemsJob, reason: DropReason, detail?: string): Promise<void> {
    this.jobs.delete(job.key);
    await rm(this.copyPath(job.key), { force: true });
    await rm(this.jobPath(job.key), { force: true });
    this.metrics.dropped.inc({ tenant: job.tenant, reason });
    this.metrics.age.observe({ outcome: 'dropped' }, (this.now() - job.queuedAt) / 1000);
    this.o.log[reason === 'forbidden' || reason === 'expired' || reason === 'queue-full' ? 'warn' : 'info'](
      { tenant: job.tenant, sender: job.sender, key: job.key, attempts: job.attempts, reason, ...(detail ? { detail } : {}) },
      'sent items job dropped; the unsigned original stays',
    );
  }

  private async persist(job: SentItemsJob): Promise<void> {
    const tmp = join(this.o.dir, 'jobs', `.${job.key}.${randomUUID()}.tmp`);
    await writeFile(tmp, JSON.stringify(job), { mode: 0o600 });
    await rename(tmp, this.jobPath(job.key));
  }

  private pendingJobs(): SentItemsJob[] {
    return [...this.jobs.values()].filter((j) => j.state === 'pending');
  }
  private totalBytes(): number {
    return this.pendingJobs().reduce((n, j) => n + j.bytes, 0);
  }
  private oldestMs(): number {
    const oldest = Math.min(...this.pendingJobs().map((j) => j.queuedAt));
    return Number.isFinite(oldest) ? Math.max(0, this.now() - oldest) : 0;
  }

  /** The jobs kept (pending and remembered), for tests and status. */
  snapshot(): SentItemsJob[] {
    return [...this.jobs.values()].map((j) => ({ ...j }));
  }

  /** Starts the background loop (timer unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.tick) return;
      // batch after batch while jobs are due: a busy tenant is not held to `concurrency` per tick
      this.tick = (async () => {
        let total = 0;
        for (let n = 1; n > 0 && this.timer; total += n) n = await this.runDue();
        return total;
      })().catch((err: unknown) => {
        this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'sent items queue failed');
        return 0;
      });
      void this.tick.finally(() => (this.tick = undefined));
    }, this.bounds.tickMs);
    this.timer.unref();
  }

  /**
   * Stops the loop and waits a little (at most `graceMs`) for the jobs being worked on: a job cut
   * off is safe, it resumes at the next start and finds what it had done (replace.ts).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.tick) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.tick, new Promise<void>((r) => (timer = setTimeout(r, graceMs).unref()))]);
    clearTimeout(timer);
  }
}

function parseJob(text: string): SentItemsJob | undefined {
  try {
    const j = JSON.parse(text) as Partial<SentItemsJob>;
    const ok =
      j.version === 1 &&
      typeof j.key === 'string' && /^[0-9a-f]{40}$/.test(j.key) &&
      typeof j.tenantId === 'string' && typeof j.tenant === 'string' && typeof j.sender === 'string' && typeof j.messageId === 'string' &&
      typeof j.queuedAt === 'number' && typeof j.attempts === 'number' && typeof j.notBefore === 'number' && typeof j.bytes === 'number' &&
      (j.state === 'pending' || j.state === 'done');
    return ok ? ({ external: false, ...j } as SentItemsJob) : undefined;
  } catch {
    return undefined;
  }
}

export type { RetryReason };
