// What the relay, `sigops sign` and `sigops preview` ask of a compiled policy.
import type { Placement, Tenant } from '../model/index.ts';
import type { MessageType } from './message-type.ts';

export type { MessageType } from './message-type.ts';

export interface Mailbox {
  readonly address: string; // lower-case
  readonly name?: string;
}

export interface SigningRequest {
  /** Envelope sender (MAIL FROM), lower-case. */
  readonly sender: string;
  /**
   * The From header: the identity the message is sent as (the user, an alias of theirs, or a
   * shared mailbox sent as); its display name is used when the sender is not in the directory.
   */
  readonly from?: Mailbox;
  /**
   * The Sender header, when it names another mailbox than From: the delegate who sent on
   * behalf of the From mailbox, and whom the message is signed for.
   */
  readonly senderHeader?: Mailbox;
  /** New, reply or forward, from the header block (src/policy/message-type.ts). Absent: new. */
  readonly messageType?: MessageType;
  /** Envelope recipients (RCPT TO), lower-case. */
  readonly recipients: readonly string[];
  readonly now: Date;
}

/**
 * An image a signature carries as a MIME part of its own (`images: embedded`): the HTML block
 * refers to it as `cid:<contentId>`. The Content-ID depends on the image's bytes and name only,
 * so a reply quoting an earlier signed message refers to the same part.
 */
export interface EmbeddedImage {
  /** Without angle brackets, e.g. `3f2a…9c.logo.png@sigops`. */
  readonly contentId: string;
  /** File name under images/. */
  readonly name: string;
  readonly mime: 'image/png' | 'image/jpeg' | 'image/gif';
  readonly data: Uint8Array;
}

/** The blocks to insert, already rendered and HTML-escaped; signature, then banner, then disclaimer. */
export interface RenderedBlocks {
  readonly html: string;
  readonly text: string;
  /** Images the HTML block refers to by `cid:`, each once (absent: none). */
  readonly images?: readonly EmbeddedImage[];
}

/** What becomes of a message that has only plain text: `keep` signs the text (the default), `html` adds an HTML twin. */
export type PlainTextMode = 'keep' | 'html';

export type SigningDecision =
  | {
      readonly kind: 'sign';
      readonly rule: string;
      readonly placement: Placement;
      readonly blocks: RenderedBlocks;
      /** `html`: a plain-text-only message gains an HTML alternative carrying the HTML block. */
      readonly plainText?: PlainTextMode;
      /** false: rendered from the From header alone (the sender is not in the tenant's directory, or the tenant has none yet). */
      readonly senderInDirectory?: boolean;
    }
  | { readonly kind: 'skip'; readonly reason: 'tenant-paused' | 'no-matching-rule' | 'render-failed'; readonly detail?: string };

export interface TenantPolicy {
  readonly tenant: Tenant;
  decide(request: SigningRequest): SigningDecision;
}

/** An immutable, compiled config: built off the hot path and swapped whole on reload. */
export interface Policy {
  readonly tenants: readonly TenantPolicy[];
  /** Case-insensitive lookup by Entra tenant id (X-MS-Exchange-CrossTenant-Id). */
  tenantById(id: string): TenantPolicy | undefined;
  /** The tenant that owns a sender domain. */
  tenantForDomain(domain: string): TenantPolicy | undefined;
  /** The tenant that owns a sender address: its domain or the nearest parent listed, as `tenantOwnsSender` reads it. */
  tenantForSender(address: string): TenantPolicy | undefined;
}
