// The relay's view of the signing engine (src/mime, issue 3). TEMPORARY: until signMessage
// lands, this file carries a header-only stand-in with the same contract that passes every
// message through unsigned; it is replaced by a re-export of the real engine.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Placement } from '../config/model.ts';
import type { Mailbox, RenderedBlocks } from '../policy/types.ts';

export interface MessageHeaders {
  get(name: string): string | undefined;
  getAll(name: string): string[];
  from(): Mailbox | undefined;
}

export type SigningChoice =
  | { kind: 'sign'; blocks: RenderedBlocks; placement: Placement; rule?: string }
  | { kind: 'pass'; reason: string };

export interface SignOutcome {
  signed: boolean;
  reason?: string;
  detail?: string;
  rule?: string;
}

export type ChooseFn = (headers: MessageHeaders) => SigningChoice | Promise<SigningChoice>;

const MAX_HEADER = 1024 * 1024;

function parseHeaders(block: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      const last = out[out.length - 1]!;
      last[1] += ' ' + line.trim();
      continue;
    }
    const i = line.indexOf(':');
    if (i > 0) out.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return out;
}

export async function signMessage(input: Readable, output: Writable, choose: ChooseFn): Promise<SignOutcome> {
  let head = Buffer.alloc(0);
  let rest: Buffer | undefined;
  const it = input[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    head = Buffer.concat([head, value as Buffer]);
    const end = head.indexOf('\r\n\r\n');
    if (end >= 0) {
      rest = head.subarray(end + 2);
      head = head.subarray(0, end + 2);
      break;
    }
    if (head.length > MAX_HEADER) {
      rest = head;
      head = Buffer.alloc(0);
      break;
    }
  }
  const fields = parseHeaders(head.toString('latin1'));
  const headers: MessageHeaders = {
    get: (n) => fields.find(([k]) => k === n.toLowerCase())?.[1],
    getAll: (n) => fields.filter(([k]) => k === n.toLowerCase()).map(([, v]) => v),
    from: () => {
      const v = fields.find(([k]) => k === 'from')?.[1];
      const m = v ? /<([^>]+)>/.exec(v)?.[1] ?? v : undefined;
      return m ? { address: m.trim().toLowerCase() } : undefined;
    },
  };
  try {
    await choose(headers);
  } catch (err) {
    for (;;) {
      const { done } = await it.next();
      if (done) break;
    }
    throw err;
  }
  const processed = headers.get('x-sigops-processed') !== undefined;
  const write = async (chunk: Buffer | string): Promise<void> => {
    if (output.destroyed) throw new Error('output closed');
    if (!output.write(chunk)) await once(output, 'drain');
  };
  await write(head);
  if (!processed) await write('X-Sigops-Processed: true\r\n');
  if (rest) await write(rest);
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    await write(value as Buffer);
  }
  output.end();
  return { signed: false, reason: processed ? 'already-processed' : 'policy', detail: 'signing engine not wired yet' };
}
