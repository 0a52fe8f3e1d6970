// The signing engine's public contract: what `choose` sees and returns, the outcome and why a
// message passes unsigned, the options (docs/signing.md describes it for callers).
import type { Placement } from '../model/index.ts';
import type { Mailbox, RenderedBlocks } from '../policy/types.ts';
import type { PartSigner } from './parts.ts';

/** The top-level header block of a message, as `choose` sees it. */
export interface MessageHeaders {
  /** First field of that name, unfolded; encoded words are NOT decoded. */
  get(name: string): string | undefined;
  getAll(name: string): string[];
  /** The first mailbox of the From header (address lower-case). */
  from(): Mailbox | undefined;
  /**
   * True when the header block was over `maxHeaderBytes` and only its start was parsed: fields
   * further on are not seen here (the message then passes unchanged, 'unparseable').
   */
  readonly truncated?: boolean;
}

export type SigningChoice = (
  | {
      kind: 'sign';
      /** `images` of the blocks are added as multipart/related parts next to the signed HTML. */
      blocks: RenderedBlocks;
      placement: Placement;
      rule?: string;
      /** `html`: a message with only plain text gains an HTML alternative (default: keep). */
      plainText?: 'keep' | 'html';
    }
  | { kind: 'pass'; reason: string }
) & {
  /** Header lines written before the message, whatever happens to it (the relay's Received line). */
  prepend?: string;
};

/** Why a message went through unsigned. */
export type PassReason =
  | 'already-processed' // carries X-Sigops-Processed
  | 'smime' // multipart/signed, multipart/encrypted, application/pkcs7-mime
  | 'pgp' // PGP/MIME or inline PGP
  | 'calendar' // text/calendar anywhere before the first attachment: invitations
  | 'auto-reply' // Auto-Submitted other than "no", or Return-Path: <>
  | 'report' // delivery status, MDN, feedback reports
  | 'tnef' // application/ms-tnef, winmail.dat
  | 'too-large' // a text part (or what must be held) over the limit
  | 'unparseable' // broken MIME: the original bytes went out
  | 'already-signed' // the newest text already carries our marker
  | 'no-text-part' // nothing that could carry a signature
  | 'sign-failed' // inserting the signature threw: the original bytes went out
  | 'images-failed' // adding the signature's images (or the HTML twin) threw: the original bytes went out
  | 'policy'; // choose() said pass (detail = its reason)

export interface SignOutcome {
  signed: boolean;
  reason?: PassReason;
  detail?: string;
  rule?: string;
}

export interface SignOptions {
  /** Largest text part that is decoded and signed; bigger ones pass unchanged ('too-large'). Default 10 MB. */
  maxTextBytes?: number;
  /** Largest top-level header block. Default 1 MB. */
  maxHeaderBytes?: number;
  /** Deepest multipart nesting that is walked; deeper parts stream through untouched. Default 32. */
  maxDepth?: number;
  /**
   * Sees every input chunk before the engine does (byte counts, size limits). A throw aborts
   * the message as an input error would: the output is destroyed, the input drained, the
   * error rethrown.
   */
  onInput?: (chunk: Buffer) => void;
  /** Signs large held text parts off the event loop (a worker thread; see offload.ts). */
  signer?: PartSigner;
}

export type ChooseFn = (headers: MessageHeaders) => SigningChoice | Promise<SigningChoice>;
