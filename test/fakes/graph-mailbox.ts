// A fake of the Microsoft Graph v1.0 mailbox endpoints the Sent Items update calls, speaking
// Graph's HTTP so the production MailboxClient runs unchanged against it:
//
//   GET    /v1.0/users/{user}/mailFolders/sentitems/messages?$filter=…&$select=…&$expand=…
//   POST   /v1.0/users/{user}/mailFolders/sentitems/messages        (JSON, or MIME as text/plain)
//   GET    /v1.0/users/{user}/messages/{id}/attachments
//   DELETE /v1.0/users/{user}/messages/{id}
//
// Each behaviour and the page of Microsoft's documentation it follows:
// - Errors are `{ error: { code, message } }` with Graph's codes (ErrorItemNotFound,
//   ErrorAccessDenied, ErrorInvalidUser): https://learn.microsoft.com/graph/errors
// - Throttling answers 429 with Retry-After (seconds), and 503 when the service is down:
//   https://learn.microsoft.com/graph/throttling
// - $filter on a message property (`internetMessageId eq '…'`):
//   https://learn.microsoft.com/graph/filter-query-parameter and
//   https://learn.microsoft.com/graph/api/mailfolder-list-messages
// - $filter and $expand on a single-value extended property
//   (`singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')`,
//   `$expand=singleValueExtendedProperties($filter=id eq '…')`):
//   https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get
// - A message created by POST is a draft (isDraft true), in JSON or in MIME format
//   (https://learn.microsoft.com/graph/api/mailfolder-post-messages,
//   https://learn.microsoft.com/graph/api/user-post-messages "Create a message in MIME format"),
//   unless PidTagMessageFlags (Integer 0x0E07) is given at creation without mfUnsent (0x8): the
//   flags are read/write only until the first save ([MS-OXCMSG] 2.2.1.6,
//   https://learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxcmsg/a0c52fe2-3014-43a7-942d-f43f6f91c366).
//   A MIME request carries no extended properties: it is always a draft.
// - PidTagClientSubmitTime (SystemTime 0x0039) and PidTagMessageDeliveryTime (SystemTime 0x0E06)
//   given at creation are what the message shows as sentDateTime and receivedDateTime
//   (https://learn.microsoft.com/office/client-developer/outlook/mapi/pidtagclientsubmittime-canonical-property).
// - Extended properties, attachments and the message are created in the same POST:
//   https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties
// - DELETE answers 204 No Content and the item leaves the folder; deleting it again is 404:
//   https://learn.microsoft.com/graph/api/message-delete
// - The sent item shows up in Sent Items only some time after the message left (Exchange saves
//   it once the submission is done; https://learn.microsoft.com/graph/api/user-sendmail says the
//   message is saved in Sent Items, not when): `visibleAfterMs` plays that delay.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeRecipient {
  readonly emailAddress: { readonly name?: string; readonly address: string };
}

export interface FakeAttachment {
  readonly '@odata.type': string;
  readonly name: string;
  readonly contentType?: string;
  readonly contentBytes?: string;
  readonly size?: number;
  readonly isInline?: boolean;
  readonly contentId?: string;
}

export interface FakeMessage {
  id: string;
  folder: 'sentitems' | 'deleteditems';
  internetMessageId: string;
  subject: string;
  body: { contentType: string; content: string };
  isDraft: boolean;
  isRead: boolean;
  sentDateTime: string;
  receivedDateTime: string;
  from?: FakeRecipient;
  toRecipients: FakeRecipient[];
  ccRecipients: FakeRecipient[];
  bccRecipients: FakeRecipient[];
  categories: string[];
  importance: string;
  attachments: FakeAttachment[];
  extended: Map<string, string>;
  /** Fake time (ms) from which the message is listed. */
  visibleAt: number;
  /** The raw body of a MIME upload. */
  mime?: string;
}

export interface MailboxRequest {
  readonly method: string;
  readonly path: string; // pathname + search
  readonly status: number;
}

export class FakeGraphMailbox {
  url = '';
  readonly requests: MailboxRequest[] = [];
  /** Every message ever stored, deleted ones included (folder 'deleteditems'). */
  readonly messages: FakeMessage[] = [];
  /** Answer everything with this status (503: down, 429: throttled) while set. */
  down: { status: 429 | 503; retryAfterSeconds?: number } | undefined;
  /** The next N requests answer 429 with this Retry-After. */
  private throttles: number[] = [];
  private readonly forbidden = new Set<string>();
  private readonly users = new Set<string>();
  private server: Server | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  addUser(user: string): void {
    this.users.add(user.toLowerCase());
  }

  /** The app may not open this mailbox (outside its management scope): 403 ErrorAccessDenied. */
  forbid(user: string): void {
    this.forbidden.add(user.toLowerCase());
  }

  throttleNext(count: number, retryAfterSeconds = 1): void {
    for (let i = 0; i < count; i++) this.throttles.push(retryAfterSeconds);
  }

  /** The unsigned original Exchange saves in Sent Items, listed from `visibleAfterMs` on. */
  addSentItem(user: string, m: { internetMessageId: string; subject?: string; to?: string[]; bcc?: string[]; categories?: string[]; isRead?: boolean; sentDateTime?: string; attachments?: FakeAttachment[]; visibleAfterMs?: number; body?: string }): FakeMessage {
    this.addUser(user);
    const sent = m.sentDateTime ?? new Date(this.now()).toISOString();
    const msg: FakeMessage = {
      id: `AAMk${randomUUID().replace(/-/g, '')}`,
      folder: 'sentitems',
      internetMessageId: m.internetMessageId,
      subject: m.subject ?? 'Quarterly numbers',
      body: { contentType: 'html', content: m.body ?? '<p>unsigned</p>' },
      isDraft: false,
      isRead: m.isRead ?? true,
      sentDateTime: sent,
      receivedDateTime: sent,
      from: { emailAddress: { address: user } },
      toRecipients: (m.to ?? ['bob@example.org']).map((address) => ({ emailAddress: { address } })),
      ccRecipients: [],
      bccRecipients: (m.bcc ?? []).map((address) => ({ emailAddress: { address } })),
      categories: m.categories ?? [],
      importance: 'normal',
      attachments: m.attachments ?? [],
      extended: new Map(),
      visibleAt: this.now() + (m.visibleAfterMs ?? 0),
    };
    this.messages.push(msg);
    return msg;
  }

  /** What the user's Sent Items lists now. */
  sentItems(user: string): FakeMessage[] {
    return this.messages.filter((m) => m.folder === 'sentitems' && m.from?.emailAddress.address.toLowerCase() === user.toLowerCase() && m.visibleAt <= this.now());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const log = (status: number): void => void this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, status });
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      log(status);
      res.writeHead(status, { 'request-id': randomUUID(), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers });
      res.end(body !== undefined ? JSON.stringify(body) : undefined);
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): void => reply(status, { error: { code, message } }, headers);
    const raw = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) return error(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (this.down) return error(this.down.status, this.down.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'The service is unavailable.', this.down.retryAfterSeconds !== undefined ? { 'Retry-After': String(this.down.retryAfterSeconds) } : {});
    const throttle = this.throttles.shift();
    if (throttle !== undefined) return error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': String(throttle) });

    const m = /^\/v1\.0\/users\/([^/]+)\/(mailFolders\/sentitems\/messages|messages\/([^/]+)(\/attachments)?)$/i.exec(url.pathname);
    if (!m) return error(400, 'BadRequest', `Unsupported path ${url.pathname}`);
    const user = decodeURIComponent(m[1]!).toLowerCase();
    if (!this.users.has(user)) return error(404, 'ErrorInvalidUser', `The requested user '${user}' is invalid.`);
    if (this.forbidden.has(user)) return error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

    if (m[2]!.toLowerCase() === 'mailfolders/sentitems/messages') {
      if (req.method === 'GET') return this.list(user, url, reply, error);
      if (req.method === 'POST') return this.create(user, req, raw, reply, error);
      return error(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
    }
    const id = decodeURIComponent(m[3]!);
    const msg = this.messages.find((x) => x.id === id && x.folder !== 'deleteditems' && x.from?.emailAddress.address.toLowerCase() === user);
    if (!msg) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    if (m[4]) {
      if (req.method !== 'GET') return error(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
      return reply(200, { value: msg.attachments.map((a) => ({ id: randomUUID(), size: a.size ?? Buffer.from(a.contentBytes ?? '', 'base64').length, ...a })) });
    }
    if (req.method === 'DELETE') {
      msg.folder = 'deleteditems';
      return reply(204);
    }
    return error(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
  }

  private list(user: string, url: URL, reply: (s: number, b?: unknown) => void, error: (s: number, c: string, m: string) => void): void {
    const filter = url.searchParams.get('$filter') ?? '';
    let match: (x: FakeMessage) => boolean;
    let f: RegExpExecArray | null;
    if ((f = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter))) {
      const want = f[1]!.replace(/''/g, "'");
      match = (x) => x.internetMessageId === want;
    } else if ((f = /^singleValueExtendedProperties\/Any\(ep: ep\/id eq '((?:[^']|'')*)' and ep\/value eq '((?:[^']|'')*)'\)$/.exec(filter))) {
      const id = f[1]!.replace(/''/g, "'").toLowerCase();
      const value = f[2]!.replace(/''/g, "'");
      match = (x) => x.extended.get(id) === value;
    } else {
      return error(400, 'ErrorInvalidUrlQueryFilter', `The query filter '${filter}' is not supported by the fake.`);
    }
    const expand = /^singleValueExtendedProperties\(\$filter=id eq '((?:[^']|'')*)'\)$/.exec(url.searchParams.get('$expand') ?? '');
    const expandId = expand?.[1]?.replace(/''/g, "'").toLowerCase();
    const select = (url.searchParams.get('$select') ?? '').split(',').filter(Boolean);
    const value = this.sentItems(user).filter(match).map((x) => {
      const full = this.view(x);
      const out: Record<string, unknown> = { id: x.id };
      for (const k of select.length ? select : Object.keys(full)) if (k in full) out[k] = full[k];
      if (expandId && x.extended.has(expandId)) out.singleValueExtendedProperties = [{ id: this.extendedName(expandId), value: x.extended.get(expandId) }];
      return out;
    });
    reply(200, { value });
  }

  /** Graph answers the id of an extended property as it was created. */
  private readonly names = new Map<string, string>();
  private extendedName(lower: string): string {
    return this.names.get(lower) ?? lower;
  }

  private view(x: FakeMessage): Record<string, unknown> {
    return {
      id: x.id,
      subject: x.subject,
      internetMessageId: x.internetMessageId,
      isDraft: x.isDraft,
      isRead: x.isRead,
      sentDateTime: x.sentDateTime,
      receivedDateTime: x.receivedDateTime,
      from: x.from,
      sender: x.from,
      toRecipients: x.toRecipients,
      ccRecipients: x.ccRecipients,
      bccRecipients: x.bccRecipients,
      replyTo: [],
      categories: x.categories,
      importance: x.importance,
      isDeliveryReceiptRequested: false,
      isReadReceiptRequested: false,
      hasAttachments: x.attachments.length > 0,
      body: x.body,
    };
  }

  private create(user: string, req: IncomingMessage, raw: string, reply: (s: number, b?: unknown) => void, error: (s: number, c: string, m: string) => void): void {
    const now = new Date(this.now()).toISOString();
    const base = {
      id: `AAMk${randomUUID().replace(/-/g, '')}`,
      folder: 'sentitems' as const,
      visibleAt: this.now(),
      ccRecipients: [] as FakeRecipient[],
      bccRecipients: [] as FakeRecipient[],
      categories: [] as string[],
      importance: 'normal',
      attachments: [] as FakeAttachment[],
      extended: new Map<string, string>(),
    };
    if ((req.headers['content-type'] ?? '').startsWith('text/plain')) {
      // MIME format: always a draft, properties from the MIME headers
      const mime = Buffer.from(raw, 'base64').toString('utf8');
      const header = (n: string): string => new RegExp(`^${n}:\\s*(.*)$`, 'im').exec(mime)?.[1]?.trim() ?? '';
      const msg: FakeMessage = {
        ...base,
        internetMessageId: header('Message-ID'),
        subject: header('Subject'),
        body: { contentType: 'text', content: '' },
        isDraft: true,
        isRead: true,
        sentDateTime: now,
        receivedDateTime: now,
        from: { emailAddress: { address: user } },
        toRecipients: [],
        mime,
      };
      this.messages.push(msg);
      return reply(201, this.view(msg));
    }
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return error(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    }
    const props = Array.isArray(j.singleValueExtendedProperties) ? (j.singleValueExtendedProperties as { id: string; value: string }[]) : [];
    for (const p of props) {
      base.extended.set(p.id.toLowerCase(), p.value);
      this.names.set(p.id.toLowerCase(), p.id);
    }
    const flags = base.extended.get('integer 0x0e07');
    const submit = base.extended.get('systemtime 0x0039');
    const delivery = base.extended.get('systemtime 0x0e06');
    const rcpts = (k: string): FakeRecipient[] => (Array.isArray(j[k]) ? (j[k] as FakeRecipient[]) : []);
    const msg: FakeMessage = {
      ...base,
      internetMessageId: typeof j.internetMessageId === 'string' ? j.internetMessageId : `<${randomUUID()}@fake.outlook.com>`,
      subject: typeof j.subject === 'string' ? j.subject : '',
      body: (j.body as FakeMessage['body']) ?? { contentType: 'text', content: '' },
      // not a draft only when the flags were given at creation without mfUnsent
      isDraft: flags === undefined || (Number(flags) & 0x8) !== 0,
      isRead: flags !== undefined ? (Number(flags) & 0x1) !== 0 : j.isRead !== false,
      sentDateTime: submit ?? now,
      receivedDateTime: delivery ?? now,
      from: (j.from as FakeRecipient | undefined) ?? { emailAddress: { address: user } },
      toRecipients: rcpts('toRecipients'),
      ccRecipients: rcpts('ccRecipients'),
      bccRecipients: rcpts('bccRecipients'),
      categories: Array.isArray(j.categories) ? (j.categories as string[]) : [],
      importance: typeof j.importance === 'string' ? j.importance : 'normal',
      attachments: Array.isArray(j.attachments) ? (j.attachments as FakeAttachment[]) : [],
    };
    this.messages.push(msg);
    reply(201, this.view(msg));
  }
}
