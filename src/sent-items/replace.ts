// One job's work: in the sender's Sent Items, put the signed copy in the place of the unsigned
// original. Graph cannot change the body of a sent item (PATCH changes `body` of drafts only),
// so the signed copy is a new message, created in Sent Items as a non-draft with the original's
// properties, and the original is then deleted.
//
// Idempotent, step by step: the copy carries sigops' marker (the job key) from its creation, so
// a job retried after any failure — before the creation, after it (even when the POST's answer
// was lost), or after the delete — finds what was done and does only what is left. Two copies
// found (two relays raced) are reduced to one.
import type { JsonObject } from '../entra/index.ts';
import { AuthenticationError, CredentialsError } from '../entra/index.ts';
import { messageBody } from './body.ts';
import { MailboxError } from './errors.ts';
import {
  DELIVERY_TIME_PROPERTY,
  MARKER_PROPERTY,
  MESSAGE_FLAGS_PROPERTY,
  SUBMIT_TIME_PROPERTY,
  type MailboxClient,
  type SentItem,
} from './mailbox.ts';
import type { DropReason, RetryReason } from './metrics.ts';

/** The job as the replacement needs it. */
export interface ReplaceRequest {
  readonly key: string;
  readonly tenantId: string;
  readonly sender: string;
  readonly messageId: string;
}

export type ReplaceOutcome =
  | { readonly kind: 'done'; readonly result: 'replaced' | 'already-replaced' }
  | { readonly kind: 'retry'; readonly reason: RetryReason; readonly retryAfterMs?: number; readonly detail?: string }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly detail?: string };

/**
 * Attachments travel inside the creating POST; Graph takes requests up to 4 MB
 * (https://learn.microsoft.com/graph/api/resources/fileattachment: "less than 3 MB" for one
 * request), and base64 makes them a third larger: more than this stays unsigned.
 */
export const MAX_ATTACHMENT_BYTES = 2_900_000;

/** The properties of the original the signed copy takes over as they are. */
const COPIED = ['subject', 'from', 'sender', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'categories', 'importance', 'isRead', 'isDeliveryReceiptRequested', 'isReadReceiptRequested', 'internetMessageId'] as const;

/** mfRead (PidTagMessageFlags): the only flag set; without mfUnsent the item is a sent message, not a draft. */
const MF_READ = 1;

export async function replaceSentItem(job: ReplaceRequest, readCopy: () => Promise<Buffer>, mailbox: MailboxClient): Promise<ReplaceOutcome> {
  try {
    const copies = await mailbox.findByMarker(job.sender, job.key);
    const originals = (await mailbox.findByInternetMessageId(job.sender, job.messageId)).filter((m) => m.marker === undefined && m.fields.isDraft !== true);
    if (copies.length === 0) {
      const original = originals[0];
      if (!original) return { kind: 'retry', reason: 'original-not-visible' };
      const message = await signedMessage(job, original, readCopy, mailbox);
      if (message.kind === 'drop') return message;
      await mailbox.create(job.sender, message.json);
    } else {
      // a second copy exists only when two workers raced: keep the first
      for (const extra of copies.slice(1)) await mailbox.delete(job.sender, extra.id);
    }
    for (const o of originals) await mailbox.delete(job.sender, o.id);
    return { kind: 'done', result: copies.length === 0 ? 'replaced' : 'already-replaced' };
  } catch (err) {
    return outcomeOf(err);
  }
}

/** The JSON of the signed copy, or why there is none. */
async function signedMessage(
  job: ReplaceRequest,
  original: SentItem,
  readCopy: () => Promise<Buffer>,
  mailbox: MailboxClient,
): Promise<{ kind: 'create'; json: JsonObject } | { kind: 'drop'; reason: DropReason; detail?: string }> {
  const body = messageBody(await readCopy());
  if (!body) return { kind: 'drop', reason: 'no-body' };
  const f = original.fields;
  const attachments: JsonObject[] = [];
  if (f.hasAttachments === true) {
    let total = 0;
    for (const a of await mailbox.attachments(job.sender, original.id)) {
      if (a['@odata.type'] !== '#microsoft.graph.fileAttachment') {
        return { kind: 'drop', reason: 'unsupported-attachment', detail: String(a['@odata.type'] ?? 'unknown') };
      }
      total += typeof a.size === 'number' ? a.size : 0;
      if (total > MAX_ATTACHMENT_BYTES) return { kind: 'drop', reason: 'too-large', detail: 'attachments over one Graph request' };
      attachments.push({
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: a.name ?? 'attachment',
        contentType: a.contentType ?? 'application/octet-stream',
        contentBytes: a.contentBytes ?? '',
        isInline: a.isInline === true,
        ...(typeof a.contentId === 'string' ? { contentId: a.contentId } : {}),
      });
    }
  }
  const copied: Record<string, unknown> = {};
  for (const k of COPIED) if (f[k] !== undefined && f[k] !== null) copied[k] = f[k];
  const sent = typeof f.sentDateTime === 'string' ? f.sentDateTime : new Date().toISOString();
  const received = typeof f.receivedDateTime === 'string' ? f.receivedDateTime : sent;
  const json: JsonObject = {
    ...copied,
    body,
    ...(attachments.length > 0 ? { attachments } : {}),
    singleValueExtendedProperties: [
      { id: MESSAGE_FLAGS_PROPERTY, value: String(f.isRead === false ? 0 : MF_READ) },
      { id: SUBMIT_TIME_PROPERTY, value: sent },
      { id: DELIVERY_TIME_PROPERTY, value: received },
      { id: MARKER_PROPERTY, value: job.key },
    ],
  };
  return { kind: 'create', json };
}

/** What a failure means for the job: wait and try again, or give up (the original stays). */
export function outcomeOf(err: unknown): ReplaceOutcome {
  if (err instanceof MailboxError) {
    if (err.temporary) {
      return { kind: 'retry', reason: 'graph-unavailable', detail: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
    }
    if (err.status === 403) return { kind: 'drop', reason: 'forbidden', detail: err.message };
    if (err.status === 404) return { kind: 'drop', reason: 'mailbox-not-found', detail: err.message };
    return { kind: 'drop', reason: 'graph-refused', detail: err.message };
  }
  if (err instanceof CredentialsError || err instanceof AuthenticationError) return { kind: 'retry', reason: 'authentication', detail: err.message };
  return { kind: 'retry', reason: 'internal', detail: err instanceof Error ? err.message : String(err) };
}
