// Signing the held text parts of one message: analysis, the all-or-nothing checks (inline PGP,
// already signed) and the rewrite of each part. Pure and synchronous, so the same function runs
// on the event loop for ordinary parts and on a worker thread for large ones (see offload.ts).
import type { Placement } from '../model/index.ts';
import type { RenderedBlocks } from '../policy/types.ts';
import type { LineEnding } from './encoding.ts';
import { htmlTwin } from './related.ts';
import { analyzePart, rewritePart, type HeldPart, type Rewritten } from './rewrite.ts';

export interface SignPlan {
  blocks: RenderedBlocks;
  placement: Placement;
  rule?: string;
  /** `html`: a plain-text-only message gains an HTML alternative. */
  plainText?: 'keep' | 'html';
  /** The message's multipart boundaries (the engine adds them): no inserted line may read as one. */
  boundaries?: readonly string[];
}

/** What became of the held parts: all pass unchanged, or each rewritten (or why not). */
export type PartsResult =
  | { kind: 'pgp' }
  | { kind: 'already-signed' }
  | { kind: 'rewritten'; parts: (Rewritten | string)[] }
  /** The signer gave up (it took too long): the parts pass unchanged, never blocked. */
  | { kind: 'gave-up'; detail: string }
  /** Signing threw (a bug, or input nothing foresaw): the parts pass unchanged, never blocked. */
  | { kind: 'failed'; detail: string };

/** signParts, failing open: an exception becomes 'failed', and the parts pass unchanged. */
export function signPartsOrPass(parts: readonly HeldPart[], plan: SignPlan, eol: LineEnding): PartsResult {
  try {
    return signParts(parts, plan, eol);
  } catch (err) {
    return { kind: 'failed', detail: `signing failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300) };
  }
}

export function signParts(parts: readonly HeldPart[], plan: SignPlan, eol: LineEnding): PartsResult {
  const analyses = parts.map((p) => analyzePart(p, plan.placement, plan.blocks));
  if (analyses.some((a) => !a.ok && a.pgp)) return { kind: 'pgp' };
  if (analyses.some((a) => a.ok && a.alreadySigned)) return { kind: 'already-signed' };
  // plain text alone (not one side of an alternative that has no HTML yet) may gain an HTML twin
  const twin = plan.plainText === 'html' && !parts.some((p) => p.kind === 'html');
  return {
    kind: 'rewritten',
    parts: analyses.map((a) => {
      if (!a.ok) return a.detail;
      const rw = rewritePart(a, plan.blocks, plan.placement, eol, plan.boundaries);
      if (typeof rw === 'string' || !twin || a.part.kind !== 'plain' || a.part.parent === 'alternative') return rw;
      return { ...rw, twin: htmlTwin(a.text, a.spot.index, plan.blocks, eol, plan.boundaries) };
    }),
  };
}

/** Signs held parts somewhere else (a worker thread); `minBytes` of held text make it worth it. */
export interface PartSigner {
  readonly minBytes: number;
  /** Rejects when the parts could not be signed there (the caller then passes them unchanged). */
  sign(parts: readonly HeldPart[], plan: SignPlan, eol: LineEnding): Promise<PartsResult>;
}
