// The worker thread behind WorkerPartSigner (offload.ts): signs the held parts it is sent with
// the same signParts() the event loop uses (failing open: a throw passes them unchanged), and
// sends the result back.
import { parentPort } from 'node:worker_threads';
import type { LineEnding } from './encoding.ts';
import { signPartsOrPass, type PartsResult, type SignPlan } from './parts.ts';
import type { HeldPart } from './rewrite.ts';

export interface SignJob {
  readonly id: number;
  readonly parts: HeldPart[];
  readonly plan: SignPlan;
  readonly eol: LineEnding;
}

export type SignReply = { readonly id: number; readonly result: PartsResult } | { readonly id: number; readonly error: string };

/** Buffers arrive as plain Uint8Arrays: make them Buffers again, without copying. */
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** The result's buffers, each moved into an ArrayBuffer of its own, to be transferred rather than copied. */
function transferable(result: PartsResult): { result: PartsResult; transfer: ArrayBuffer[] } {
  if (result.kind !== 'rewritten') return { result, transfer: [] };
  const transfer: ArrayBuffer[] = [];
  const own = (b: Buffer): Buffer => {
    const copy = new Uint8Array(b.length);
    copy.set(b);
    transfer.push(copy.buffer);
    return Buffer.from(copy.buffer);
  };
  const parts = result.parts.map((p) => (typeof p === 'string' ? p : { ...p, header: own(p.header), body: own(p.body) }));
  return { result: { kind: 'rewritten', parts }, transfer };
}

parentPort?.on('message', (job: SignJob) => {
  let reply: SignReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const parts = job.parts.map((p) => ({ ...p, header: asBuffer(p.header), separator: asBuffer(p.separator), body: asBuffer(p.body) }));
    const t = transferable(signPartsOrPass(parts, job.plan, job.eol));
    reply = { id: job.id, result: t.result };
    transfer = t.transfer;
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort!.postMessage(reply, transfer);
});
