// The Microsoft Graph calls of the Sent Items update, on one tenant's mailboxes: find a message
// in a user's Sent Items (by its Internet Message-ID, or by sigops' own marker property), read
// its attachments, create a message there, delete one. Token, retries honouring Retry-After and
// a client-request-id per request are the shared Entra plumbing (src/entra/http.ts); what is the
// mailbox's own is here: which calls may be replayed after a network error (reads and deletes,
// never the creation) and how Graph's error answers become MailboxError.
//
// Microsoft's documentation for each call (Graph v1.0):
//   list:    https://learn.microsoft.com/graph/api/mailfolder-list-messages ($filter, $select, $expand)
//   marker:  https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get
//            ($filter=singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…'),
//            $expand=singleValueExtendedProperties($filter=id eq '…'))
//   create:  https://learn.microsoft.com/graph/api/mailfolder-post-messages (JSON, attachments and
//            singleValueExtendedProperties in the same POST)
//   files:   https://learn.microsoft.com/graph/api/message-list-attachments
//   delete:  https://learn.microsoft.com/graph/api/message-delete
import type { Logger } from '../log/index.ts';
import {
  ServiceConnection,
  formatPagingProblem,
  parseRetryAfter,
  type ErrorAnswer,
  type JsonObject,
  type RequestIds,
  type RetryPolicy,
  type ServiceErrors,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import { MailboxError } from './errors.ts';

/**
 * sigops' marker on the signed copy it created: a named string property in its own property set
 * (GUID chosen for sigops), whose value is the job key. A retried job finds its copy by it and
 * never creates a second one.
 */
export const MARKER_PROPERTY = 'String {4f5b8f7e-3c2d-4d8a-9b1e-5a7c0e2d6f31} Name sigopsSentItemsKey';
/** PR_MESSAGE_FLAGS (PidTagMessageFlags): without mfUnsent (0x8) at creation the item is not a draft. */
export const MESSAGE_FLAGS_PROPERTY = 'Integer 0x0E07';
/** PR_CLIENT_SUBMIT_TIME (PidTagClientSubmitTime): what Graph shows as sentDateTime. */
export const SUBMIT_TIME_PROPERTY = 'SystemTime 0x0039';
/** PR_MESSAGE_DELIVERY_TIME (PidTagMessageDeliveryTime): what Graph shows as receivedDateTime. */
export const DELIVERY_TIME_PROPERTY = 'SystemTime 0x0E06';

/** The fields of a Sent Items message the replacement reads. */
export const MESSAGE_FIELDS = [
  'id',
  'subject',
  'internetMessageId',
  'isDraft',
  'isRead',
  'sentDateTime',
  'receivedDateTime',
  'from',
  'sender',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'categories',
  'importance',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'hasAttachments',
] as const;

/** One message of a Sent Items folder, as the replacement sees it. */
export interface SentItem {
  readonly id: string;
  readonly fields: JsonObject;
  /** The value of sigops' marker, when the message is a signed copy sigops created. */
  readonly marker: string | undefined;
}

export interface MailboxClientOptions {
  readonly tenantId: string;
  readonly tokens: TokenProvider; // for the cloud's Graph scope
  /** Graph's base URL for the tenant's cloud (src/entra/cloud.ts), or SIGOPS_GRAPH_URL. */
  readonly graphUrl: string;
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  readonly logger?: Logger;
}

/**
 * Few attempts per call: the job itself is retried with its own back-off (src/sent-items/queue.ts),
 * so a call only rides out a short burst of throttling here.
 */
export const MAILBOX_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** One tenant's mailboxes through Microsoft Graph. */
export class MailboxClient {
  private readonly base: string;
  private readonly connection: ServiceConnection;

  constructor(options: MailboxClientOptions) {
    this.base = options.graphUrl.replace(/\/+$/, '');
    this.connection = new ServiceConnection({
      tenantId: options.tenantId,
      tokens: options.tokens,
      serviceUrl: this.base,
      retry: options.retry ?? MAILBOX_RETRY,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  private sentItems(user: string): string {
    return `${this.base}/v1.0/users/${encodeURIComponent(user)}/mailFolders/sentitems/messages`;
  }

  private query(filter: string): string {
    const select = MESSAGE_FIELDS.join(',');
    const expand = `singleValueExtendedProperties($filter=id eq '${MARKER_PROPERTY}')`;
    return `?$filter=${encodeURIComponent(filter)}&$select=${select}&$expand=${encodeURIComponent(expand)}&$top=10`;
  }

  private async list(url: string): Promise<SentItem[]> {
    const items = await this.connection.collect(url, { method: 'GET', replayable: true }, errors('GET'));
    return items.map(toSentItem).filter((i): i is SentItem => i !== undefined);
  }

  /** The Sent Items messages with this Internet Message-ID (the original, and a signed copy carrying it). */
  findByInternetMessageId(user: string, internetMessageId: string): Promise<SentItem[]> {
    return this.list(this.sentItems(user) + this.query(`internetMessageId eq ${odataString(internetMessageId)}`));
  }

  /** The Sent Items messages sigops created for this job key. */
  findByMarker(user: string, key: string): Promise<SentItem[]> {
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq ${odataString(MARKER_PROPERTY)} and ep/value eq ${odataString(key)})`;
    return this.list(this.sentItems(user) + this.query(filter));
  }

  /** The attachments of a message, file attachments with their content (contentBytes). */
  attachments(user: string, messageId: string): Promise<JsonObject[]> {
    const url = `${this.base}/v1.0/users/${encodeURIComponent(user)}/messages/${encodeURIComponent(messageId)}/attachments`;
    return this.connection.collect(url, { method: 'GET', replayable: true }, errors('GET'));
  }

  /**
   * Creates a message in the user's Sent Items. Never replayed after a network error: the POST
   * may have reached Graph, and the marker lets the next attempt find what it created.
   */
  async create(user: string, message: JsonObject): Promise<string> {
    const body = await this.connection.request(
      this.sentItems(user),
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(message), replayable: false },
      errors('POST'),
    );
    const id = body.id;
    if (typeof id !== 'string' || !id) throw new MailboxError({ status: 0, graphCode: 'no-id', message: 'Microsoft Graph created the message but answered without its id' });
    return id;
  }

  /** Deletes a message; one already gone counts as deleted. A delete may be replayed: deleting twice is deleting. */
  async delete(user: string, messageId: string): Promise<void> {
    const url = `${this.base}/v1.0/users/${encodeURIComponent(user)}/messages/${encodeURIComponent(messageId)}`;
    try {
      await this.connection.request(url, { method: 'DELETE', replayable: true }, errors('DELETE'));
    } catch (err) {
      if (err instanceof MailboxError && err.status === 404 && err.graphCode === 'ErrorItemNotFound') return;
      throw err;
    }
  }
}

/** An OData string literal: single quotes, an inner quote doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function toSentItem(o: JsonObject): SentItem | undefined {
  if (typeof o.id !== 'string') return undefined;
  const props = Array.isArray(o.singleValueExtendedProperties) ? (o.singleValueExtendedProperties as JsonObject[]) : [];
  const marker = props.find((p) => typeof p.id === 'string' && p.id.toLowerCase() === MARKER_PROPERTY.toLowerCase())?.value;
  return { id: o.id, fields: o, marker: typeof marker === 'string' ? marker : undefined };
}

function ids(a: RequestIds): RequestIds {
  return { clientRequestId: a.clientRequestId, ...(a.requestId ? { requestId: a.requestId } : {}) };
}

/** How Graph's failures of one kind of call become MailboxError; 429/503/504 are retried by the plumbing. */
function errors(method: string): ServiceErrors<MailboxError> {
  return {
    answer(a: ErrorAnswer) {
      const e = (a.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof e?.code === 'string' ? e.code : String(a.status);
      const detail = typeof e?.message === 'string' ? e.message : a.unreadable ? `unreadable body (${a.unreadable})` : a.text.slice(0, 200) || `HTTP ${a.status}`;
      const retryAfterMs = parseRetryAfter(a.headers.get('retry-after'));
      return new MailboxError({
        status: a.status,
        graphCode: code,
        // the path names the mailbox (a user), never the message's content
        message: `${method} ${new URL(a.url).pathname}: HTTP ${a.status} ${code}: ${detail}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        request: ids(a),
      });
    },
    exhausted: (error, a, attempts) =>
      new MailboxError({
        status: error.status,
        graphCode: error.graphCode,
        message: `still busy after ${attempts} attempts: ${error.message}`,
        ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        request: ids(a),
      }),
    unreachable: (cause, url, requestIds) =>
      new MailboxError({ status: 0, graphCode: 'network', message: `cannot reach Microsoft Graph (${new URL(url).origin}): ${cause.message}`, request: ids(requestIds) }),
    foreignNextLink: (target) =>
      new MailboxError({ status: 0, graphCode: 'nextLink', message: `refusing to follow @odata.nextLink to another host: ${target.origin}` }),
    endlessPaging: (target, reason, pages) =>
      new MailboxError({ status: 0, graphCode: 'endless-paging', message: formatPagingProblem('Microsoft Graph', target, reason, pages) }),
  };
}
