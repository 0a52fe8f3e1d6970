// signMessage: the one entry point the relay and `sigops sign` share.
import type { Readable, Writable } from 'node:stream';
import { HeaderBlock, parseContentType, parseHeaderFields } from './headers.ts';
import { lineEndingOf } from './encoding.ts';
import { structuralReason, Walker, type Limits, type Piece } from './engine.ts';
import type { ChooseFn, MessageHeaders, PassReason, SignOptions, SignOutcome, SigningChoice } from './types.ts';

const LF = 10;
const EMPTY: Buffer = Buffer.alloc(0);

type Next = () => Promise<Buffer | undefined>;

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(String(v), 'utf8');
}

interface Head {
  /** Header fields, up to and including the last field's line break. */
  block: Buffer;
  /** The blank line that ends the header block (empty when there is none). */
  separator: Buffer;
  /** Body bytes already read. */
  rest: Buffer;
  status: 'ok' | 'eof' | 'overflow';
}

/** Reads until the blank line that ends the header block, or EOF, or the size limit. */
async function readHead(next: Next, max: number): Promise<Head> {
  let acc: Buffer = EMPTY;
  let searched = 0;
  for (;;) {
    const chunk = await next();
    if (chunk === undefined) return { block: acc, separator: EMPTY, rest: EMPTY, status: 'eof' };
    acc = acc.length === 0 ? chunk : Buffer.concat([acc, chunk]);
    // a message that starts with a blank line has no header fields
    if (searched === 0 && (acc[0] === LF || (acc[0] === 13 && acc[1] === LF))) {
      const n = acc[0] === LF ? 1 : 2;
      return { block: EMPTY, separator: acc.subarray(0, n), rest: acc.subarray(n), status: 'ok' };
    }
    if (searched === 0 && acc.length === 1 && acc[0] === 13) continue;
    const from = Math.max(0, searched - 3);
    const a = acc.indexOf('\n\n', from, 'latin1');
    const b = acc.indexOf('\n\r\n', from, 'latin1');
    const end = a < 0 ? b : b < 0 ? a : Math.min(a, b);
    if (end >= 0) {
      const sepLen = end === a ? 1 : 2;
      return {
        block: acc.subarray(0, end + 1),
        separator: acc.subarray(end + 1, end + 1 + sepLen),
        rest: acc.subarray(end + 1 + sepLen),
        status: 'ok',
      };
    }
    searched = acc.length;
    if (acc.length > max) return { block: acc, separator: EMPTY, rest: EMPTY, status: 'overflow' };
  }
}

/** Reasons to pass a message that its top-level header block alone reveals. */
function headerReason(headers: MessageHeaders): { reason: PassReason; detail?: string } | undefined {
  if (headers.get('x-sigops-processed') !== undefined) return { reason: 'already-processed' };
  const ct = parseContentType(headers.get('content-type'));
  const structural = structuralReason(ct, true);
  if (structural) return { reason: structural, detail: ct.mime };
  if (/calendarmessage/i.test(headers.get('content-class') ?? '')) return { reason: 'calendar', detail: 'Content-Class' };
  const auto = headers.get('auto-submitted');
  if (auto !== undefined && auto.split(/[;\s(]/)[0]!.toLowerCase() !== 'no') return { reason: 'auto-reply', detail: `Auto-Submitted: ${auto.split(';')[0]}` };
  const returnPath = headers.get('return-path');
  if (returnPath !== undefined && /^<\s*>$/.test(returnPath.trim())) return { reason: 'auto-reply', detail: 'null sender' };
  return undefined;
}

/** Small output pieces (boundary lines, part headers) are joined up to this size before writing. */
const COALESCE = 64 * 1024;

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** One waiter woken by stream events: what OutputSink and InputReader wait on. */
class Signal {
  private wake: (() => void) | undefined;
  readonly notify = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };
  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }
}

/**
 * Writes to the output with backpressure, as stream.pipeline would, without its per-call
 * AbortController and eos bookkeeping (measurable per message on the relay's hot path). Errors
 * and a premature close of the output reject the pending write or end.
 */
class OutputSink {
  private err: Error | undefined;
  private finished = false;
  private readonly signal = new Signal();
  private readonly onError = (e: Error): void => {
    this.err ??= e;
    this.signal.notify();
  };
  private readonly onClose = (): void => {
    if (!this.finished) this.err ??= prematureClose();
    this.signal.notify();
  };
  private readonly onFinish = (): void => {
    this.finished = true;
    this.signal.notify();
  };
  private readonly onDrain = this.signal.notify;

  constructor(private readonly w: Writable) {
    w.on('error', this.onError);
    w.on('close', this.onClose);
    w.on('finish', this.onFinish);
    w.on('drain', this.onDrain);
  }

  private check(): void {
    if (this.err) throw this.err;
    if (this.w.destroyed || this.w.writableEnded) throw prematureClose();
  }

  private async write(b: Buffer): Promise<void> {
    this.check();
    if (!this.w.write(b)) {
      while (this.w.writableNeedDrain && !this.err && !this.w.destroyed) await this.signal.wait();
      this.check();
    }
  }

  /** Writes the pieces in order, joining runs of small ones (fewer writes downstream). */
  async writeAll(pieces: readonly Piece[]): Promise<void> {
    let run: Buffer[] = [];
    let runLen = 0;
    for (const piece of pieces) {
      if (!Buffer.isBuffer(piece)) {
        // parts signed elsewhere: what came before goes out first, then they take their place
        if (run.length > 0) await this.write(run.length === 1 ? run[0]! : Buffer.concat(run, runLen));
        run = [];
        runLen = 0;
        await this.writeAll(await piece);
        continue;
      }
      const b = piece;
      if (b.length === 0) continue;
      if (runLen + b.length > COALESCE && run.length > 0) {
        await this.write(run.length === 1 ? run[0]! : Buffer.concat(run, runLen));
        run = [];
        runLen = 0;
      }
      if (b.length >= COALESCE) {
        await this.write(b);
        continue;
      }
      run.push(b);
      runLen += b.length;
    }
    if (run.length > 0) await this.write(run.length === 1 ? run[0]! : Buffer.concat(run, runLen));
  }

  async end(): Promise<void> {
    this.check();
    this.w.end();
    while (!this.finished && !this.err) await this.signal.wait();
    if (this.err) throw this.err;
  }

  dispose(): void {
    this.w.removeListener('error', this.onError);
    this.w.removeListener('close', this.onClose);
    this.w.removeListener('finish', this.onFinish);
    this.w.removeListener('drain', this.onDrain);
  }
}

/**
 * Reads the input in flowing mode ('data' events; paused while a few chunks wait) rather than
 * through the stream's async iterator, whose paused-mode reads (read() bookkeeping and a
 * nextTick per chunk) showed in the relay's profiles. An error or a premature close fails the
 * read that is waiting, as the iterator would.
 */
class InputReader {
  private queue: Buffer[] = [];
  private head = 0;
  private ended = false;
  private paused = false;
  private error: Error | undefined;
  private readonly signal = new Signal();
  private readonly onData = (c: unknown): void => {
    this.queue.push(toBuffer(c));
    if (!this.paused && this.queue.length - this.head >= 4) {
      this.paused = true;
      this.input.pause();
    }
    this.signal.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.signal.notify();
  };
  private readonly onError = (e: Error): void => {
    this.error ??= e;
    this.signal.notify();
  };
  private readonly onClose = (): void => {
    if (!this.ended) this.error ??= prematureClose();
    this.signal.notify();
  };

  constructor(private readonly input: Readable) {
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('error', this.onError);
    input.on('close', this.onClose);
  }

  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.head < this.queue.length) {
        const chunk = this.queue[this.head++]!;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        }
        if (this.paused && this.queue.length - this.head < 2) {
          this.paused = false;
          this.input.resume();
        }
        return chunk;
      }
      if (this.error) throw this.error;
      if (this.ended) return undefined;
      await this.signal.wait();
    }
  }

  dispose(): void {
    this.input.removeListener('data', this.onData);
    this.input.removeListener('end', this.onEnd);
    this.input.removeListener('error', this.onError);
    this.input.removeListener('close', this.onClose);
  }
}

async function drain(next: Next): Promise<void> {
  try {
    while ((await next()) !== undefined) {
      // discard
    }
  } catch {
    // the input failed; nothing left to drain
  }
}

/**
 * Signs one message as it streams from `input` to `output` (the contract: types.ts, and
 * docs/signing.md, "For developers: the API"). `choose` is called once, with the top-level
 * headers, before anything is written; if it throws, nothing is written, the input is drained,
 * and the same error is rethrown. On success `output` is ended.
 */
export async function signMessage(input: Readable, output: Writable, choose: ChooseFn, options: SignOptions = {}): Promise<SignOutcome> {
  const limits: Limits = {
    maxTextBytes: options.maxTextBytes ?? 10 * 1024 * 1024,
    maxHeaderBytes: options.maxHeaderBytes ?? 1024 * 1024,
    maxDepth: options.maxDepth ?? 32,
  };
  const reader = new InputReader(input);
  try {
    let onInput = options.onInput;
    let done = false;
    const next: Next = async () => {
      if (done) return undefined;
      const chunk = await reader.next();
      if (chunk === undefined) {
        done = true;
        return undefined;
      }
      if (onInput) {
        try {
          onInput(chunk);
        } catch (err) {
          onInput = undefined; // it refused once; the drain that follows reads the rest
          throw err;
        }
      }
      return chunk;
    };

    let head: Head;
    try {
      head = await readHead(next, limits.maxHeaderBytes);
    } catch (err) {
      await drain(next);
      throw err;
    }
    const headers = new HeaderBlock(parseHeaderFields(head.block), head.status === 'overflow');
    let choice: SigningChoice;
    try {
      choice = await choose(headers);
    } catch (err) {
      await drain(next);
      throw err;
    }

    const eol = lineEndingOf(head.block);
    const plan = choice.kind === 'sign' ? { blocks: choice.blocks, placement: choice.placement, ...(choice.rule !== undefined ? { rule: choice.rule } : {}), ...(choice.plainText === 'html' ? { plainText: 'html' as const } : {}) } : undefined;
    const walker = new Walker(plan ?? { blocks: { html: '', text: '' }, placement: 'bottom' }, limits, eol, options.signer);
    const pass = headerReason(headers);
    if (head.status === 'overflow') {
      // no end of the header block in sight: add our header on top and send everything as it came
      const mark = pass?.reason === 'already-processed' ? EMPTY : Buffer.from(`X-Sigops-Processed: true${eol}`, 'latin1');
      walker.out.push(mark, head.block);
      walker.outcome = { signed: false, reason: pass?.reason ?? 'unparseable', detail: pass?.detail ?? 'header block too large' };
    } else if (pass?.reason === 'already-processed') {
      walker.out.push(head.block, head.separator);
      walker.outcome = { signed: false, reason: 'already-processed' };
    } else if (pass) {
      walker.passWhole(head.block, head.separator, pass.reason, pass.detail);
    } else if (choice.kind === 'pass') {
      walker.passWhole(head.block, head.separator, 'policy', choice.reason);
    } else if (head.status === 'eof') {
      walker.passWhole(head.block, head.separator, 'unparseable', 'no body');
    } else {
      walker.startBody(headers, head.block, head.separator);
    }
    if (choice.prepend) walker.out.unshift(Buffer.from(choice.prepend, 'latin1'));

    const sink = new OutputSink(output);
    try {
      if (head.rest.length > 0) walker.push(head.rest);
      for (;;) {
        if (walker.out.length > 0) {
          const out = walker.out;
          walker.out = [];
          await sink.writeAll(out);
        }
        const chunk = await next();
        if (chunk === undefined) break;
        walker.push(chunk);
      }
      walker.end();
      const out = walker.out;
      walker.out = [];
      await sink.writeAll(out);
      await sink.end();
    } catch (err) {
      // as stream.pipeline does: the output never sees an end, it is destroyed with the error
      if (!output.destroyed) output.destroy(err instanceof Error ? err : new Error(String(err)));
      sink.dispose();
      await drain(next);
      throw err;
    }
    sink.dispose();
    return walker.outcome ?? { signed: false, reason: 'no-text-part' };
  } finally {
    reader.dispose();
  }
}
