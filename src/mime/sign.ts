// signMessage: the one entry point the relay and `sigops sign` share.
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HeaderBlock, parseContentType, parseHeaderFields } from './headers.ts';
import { structuralReason, Walker, type Limits } from './engine.ts';
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

function eolOf(block: Buffer): string {
  const nl = block.indexOf(LF);
  return nl > 0 && block[nl - 1] === 13 ? '\r\n' : nl < 0 ? '\r\n' : '\n';
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
 * Signs one message as it streams from `input` to `output` (see the team brief for the
 * contract). `choose` is called once, with the top-level headers, before anything is written;
 * if it throws, nothing is written, the input is drained, and the same error is rethrown.
 * On success `output` is ended.
 */
export async function signMessage(input: Readable, output: Writable, choose: ChooseFn, options: SignOptions = {}): Promise<SignOutcome> {
  const limits: Limits = {
    maxTextBytes: options.maxTextBytes ?? 10 * 1024 * 1024,
    maxHeaderBytes: options.maxHeaderBytes ?? 1024 * 1024,
    maxDepth: options.maxDepth ?? 32,
  };
  const it = (input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let done = false;
  const next: Next = async () => {
    if (done) return undefined;
    const r = await it.next();
    if (r.done) {
      done = true;
      return undefined;
    }
    return toBuffer(r.value);
  };

  const head = await readHead(next, limits.maxHeaderBytes);
  const headers = new HeaderBlock(parseHeaderFields(head.block));
  let choice: SigningChoice;
  try {
    choice = await choose(headers);
  } catch (err) {
    await drain(next);
    throw err;
  }

  const eol = eolOf(head.block);
  const plan = choice.kind === 'sign' ? { blocks: choice.blocks, placement: choice.placement, ...(choice.rule !== undefined ? { rule: choice.rule } : {}) } : undefined;
  const walker = new Walker(plan ?? { blocks: { html: '', text: '' }, placement: 'bottom' }, limits, eol);
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

  async function* produce(): AsyncGenerator<Buffer> {
    if (head.rest.length > 0) walker.push(head.rest);
    for (;;) {
      if (walker.out.length > 0) {
        const out = walker.out;
        walker.out = [];
        for (const b of out) if (b.length > 0) yield b;
      }
      const chunk = await next();
      if (chunk === undefined) break;
      walker.push(chunk);
    }
    walker.end();
    const out = walker.out;
    walker.out = [];
    for (const b of out) if (b.length > 0) yield b;
  }

  try {
    await pipeline(produce(), output);
  } catch (err) {
    await drain(next);
    throw err;
  }
  return walker.outcome ?? { signed: false, reason: 'no-text-part' };
}
