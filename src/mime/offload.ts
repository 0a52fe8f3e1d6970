// Large text parts are signed on a worker thread. Decoding, placing and re-encoding a 1 MB
// part takes milliseconds of pure CPU and leaves megabytes of strings behind; on the event loop
// that would stall every other SMTP session of the relay for that long and make the garbage
// collector run full collections. The worker starts on first use, so a relay that never sees a
// large text part never pays for it.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LineEnding } from './encoding.ts';
import type { PartSigner, PartsResult, SignPlan } from './parts.ts';
import type { HeldPart } from './rewrite.ts';
import type { SignJob, SignReply } from './sign-worker.ts';

export interface WorkerPartSignerOptions {
  /** Held text of at least this many bytes goes to a worker (default 128 KB). */
  readonly minBytes?: number;
  /** Worker threads (default: one per spare core, at most 2). */
  readonly threads?: number;
  /** A job not done by then is abandoned and its parts pass unchanged (default 10 s). */
  readonly timeoutMs?: number;
  /** Told when a worker fails, times out or cannot start (for the relay's log). */
  readonly onProblem?: (message: string, error?: Error) => void;
}

interface Pending {
  resolve(r: PartsResult): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** The worker script: a bundled sign-worker.mjs beside this file, or the TypeScript source through tsx. */
function workerScript(): URL | undefined {
  for (const name of ['./sign-worker.mjs', './sign-worker-boot.mjs']) {
    const url = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}


class Thread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** Whether it ever answered: one that dies before that will not start at all here. */
  answered = false;
  /** Stopped on purpose, a job having run too long. */
  timedOut = false;
  constructor(script: URL, onGone: (t: Thread, err: Error) => void) {
    this.worker = new Worker(script);
    this.worker.unref();
    this.worker.on('message', (reply: SignReply) => {
      this.answered = true;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      if ('error' in reply) p.reject(new Error(`signing worker: ${reply.error}`));
      else p.resolve(revive(reply.result));
    });
    let dead = false;
    const gone = (err: Error): void => {
      if (dead) return; // 'error' and then 'exit'
      dead = true;
      onGone(this, err);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
    };
    this.worker.on('error', gone);
    this.worker.on('exit', (code) => gone(new Error(`signing worker exited with code ${code}`)));
  }
}

/** Results come back with plain Uint8Arrays where Buffers were. */
function revive(r: PartsResult): PartsResult {
  if (r.kind !== 'rewritten') return r;
  const b = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return { kind: 'rewritten', parts: r.parts.map((p) => (typeof p === 'string' ? p : { ...p, header: b(p.header), body: b(p.body), ...(p.twin ? { twin: p.twin.map(b) } : {}) })) };
}

export class WorkerPartSigner implements PartSigner {
  readonly minBytes: number;
  private readonly threads: number;
  private readonly timeoutMs: number;
  private readonly pool: Thread[] = [];
  private next = 0;
  private ids = 0;
  private closed = false;
  private script = workerScript();
  private readonly onProblem: (message: string, error?: Error) => void;

  constructor(options: WorkerPartSignerOptions = {}) {
    this.onProblem = options.onProblem ?? (() => undefined);
    this.minBytes = options.minBytes ?? 128 * 1024;
    this.threads = Math.max(1, options.threads ?? Math.min(2, availableParallelism() - 1));
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Whether a worker can run here at all (a bundle without sign-worker.mjs beside it cannot). */
  get available(): boolean {
    return this.script !== undefined && !this.closed;
  }

  private thread(): Thread {
    if (this.pool.length < this.threads) {
      const t = new Thread(this.script!, (gone, err) => {
        const i = this.pool.indexOf(gone);
        if (i >= 0) this.pool.splice(i, 1); // the next job starts a fresh one
        if (this.closed) return;
        if (!gone.answered) {
          this.script = undefined; // it cannot start here: sign on the event loop from now on
          this.onProblem('the signing worker could not start; large text parts are signed on the event loop', err);
        } else if (!gone.timedOut) {
          this.onProblem('the signing worker stopped; the next large part starts a new one', err);
        }
      });
      this.pool.push(t);
      return t;
    }
    return this.pool[this.next++ % this.pool.length]!;
  }

  sign(parts: readonly HeldPart[], plan: SignPlan, eol: LineEnding): Promise<PartsResult> {
    if (!this.available) return Promise.reject(new Error('no signing worker'));
    const t = this.thread();
    const id = ++this.ids;
    return new Promise<PartsResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        t.pending.delete(id);
        // whatever it is stuck on would block the event loop just the same: give up on signing
        resolve({ kind: 'gave-up', detail: `signing took longer than ${this.timeoutMs} ms` });
        this.onProblem(`signing a large text part took longer than ${this.timeoutMs} ms; it passed unsigned`);
        t.answered = true; // it did start; a fresh one takes the next job
        t.timedOut = true;
        void t.worker.terminate();
      }, this.timeoutMs);
      t.pending.set(id, { resolve, reject, timer });
      // copies in ArrayBuffers of their own, moved rather than cloned (a view of a 64 KB socket
      // chunk would otherwise clone all of it); the originals stay here for an unchanged pass
      const transfer: ArrayBuffer[] = [];
      const own = (b: Buffer): Buffer => {
        const copy = new Uint8Array(b);
        transfer.push(copy.buffer);
        return copy as Buffer;
      };
      // the signature's images are added here, after signing: the worker needs none of them
      const blocks = plan.blocks.images ? { html: plan.blocks.html, text: plan.blocks.text } : plan.blocks;
      const job: SignJob = { id, parts: parts.map((p) => ({ ...p, header: own(p.header), separator: own(p.separator), body: own(p.body) })), plan: blocks === plan.blocks ? plan : { ...plan, blocks }, eol };
      t.worker.postMessage(job, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pool.splice(0).map((t) => t.worker.terminate()));
  }
}
