// A fake of the Microsoft Graph v1.0 endpoints `sigops directory sync` reads, speaking Graph's
// HTTP so the production client runs unchanged against it (SIGOPS_GRAPH_URL=http://127.0.0.1:P):
//
//   GET /v1.0/users?$select=…&$filter=accountEnabled eq true&$top=N
//   GET /v1.0/groups?$select=…&$filter=mailEnabled eq true&$top=N
//   GET /v1.0/groups/{id}/transitiveMembers[/microsoft.graph.user]?$select=…&$count=true
//   GET /v1.0/users/{id}/mailboxSettings/userPurpose
//
// Behaviour copied from Graph: bearer tokens checked against the Entra fake that issued them
// (tenant and audience), Authorization_RequestDenied 403 without the application permission,
// $top capped at 999 with @odata.nextLink paging ($skiptoken), 429/503 throttling with
// Retry-After, Request_UnsupportedQuery for filters it does not support and for an OData cast
// without ConsistencyLevel: eventual + $count=true, nested groups resolved by transitiveMembers,
// hidden-membership groups refused without Member.Read.Hidden, only $select-ed properties returned.
// Also, each from Microsoft Graph's v1.0 reference on learn.microsoft.com:
// - user resource type (/graph/api/resources/user): proxyAddresses is a string collection such
//   as ["SMTP:bob@contoso.com", "smtp:bob@sales.contoso.com"], upper-case SMTP: the primary,
//   never null (an empty collection when unset); X500:, SIP: … entries may sit among them.
// - Use the $select query parameter (/graph/query-parameters#select): a property the type does
//   not have is a 400 Request_BadRequest "Could not find a property named '…' on type
//   'microsoft.graph.user'", so a sync asking for an attribute Graph lacks fails here as there.
// - List users (/graph/api/user-list): `$filter=accountEnabled eq false` lists the disabled
//   accounts, which is what shared, room and equipment mailboxes have.
// - Get mailboxSettings (/graph/api/user-get-mailboxsettings) and the mailboxSettings resource
//   (/graph/api/resources/mailboxsettings): GET /users/{id}/mailboxSettings/userPurpose answers
//   {"value": "user" | "linked" | "shared" | "room" | "equipment" | "others"}; application
//   permission MailboxSettings.Read (403 ErrorAccessDenied without it); an account without an
//   Exchange Online mailbox answers 404 MailboxNotEnabledForRESTAPI.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type GraphPermission = 'User.Read.All' | 'GroupMember.Read.All' | 'MailboxSettings.Read';

/** mailboxSettings.userPurpose values of Graph v1.0. */
export type FakeMailboxPurpose = 'user' | 'linked' | 'shared' | 'room' | 'equipment' | 'others';

export interface FakeGraphUser {
  readonly id?: string;
  readonly accountEnabled?: boolean; // default true
  readonly mail?: string | null;
  readonly userPrincipalName: string;
  readonly displayName?: string | null;
  readonly givenName?: string | null;
  readonly surname?: string | null;
  readonly jobTitle?: string | null;
  readonly department?: string | null;
  readonly officeLocation?: string | null;
  readonly businessPhones?: readonly string[];
  readonly mobilePhone?: string | null;
  readonly companyName?: string | null;
  readonly streetAddress?: string | null;
  readonly city?: string | null;
  readonly state?: string | null;
  readonly postalCode?: string | null;
  readonly country?: string | null;
  /** e.g. ['SMTP:alice@contoso.com', 'smtp:a.smith@contoso.co.uk', 'X500:/o=…']; Graph's default is []. */
  readonly proxyAddresses?: readonly string[];
  /** The mailbox's userPurpose; absent: 'user' when the account has `mail`, else no mailbox. null: no mailbox. */
  readonly mailboxPurpose?: FakeMailboxPurpose | null;
}

/** The properties of microsoft.graph.user the fake knows; $select of any other one is refused, as by Graph. */
const USER_PROPERTIES = new Set([
  'id', 'accountEnabled', 'mail', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'jobTitle', 'department',
  'officeLocation', 'businessPhones', 'mobilePhone', 'companyName', 'streetAddress', 'city', 'state', 'postalCode', 'country',
  'proxyAddresses', 'otherMails', 'employeeId', 'userType', 'preferredLanguage', 'faxNumber', 'aboutMe',
]);

export interface FakeGraphGroup {
  readonly id?: string;
  readonly displayName: string;
  readonly mail?: string | null;
  readonly mailEnabled?: boolean; // default: mail is set
  /** Direct members: user principal names or group display names. */
  readonly members: readonly string[];
  /** Membership hidden (HiddenMembership): members readable only with Member.Read.Hidden. */
  readonly hiddenMembership?: boolean;
}

interface StoredUser extends FakeGraphUser {
  readonly id: string;
}
interface StoredGroup extends FakeGraphGroup {
  readonly id: string;
}

interface TenantData {
  users: StoredUser[];
  groups: StoredGroup[];
  permissions: Set<GraphPermission>;
  /** Lookups built on first use and dropped on every change, so a 100,000-user tenant pages in O(page). */
  index?: TenantIndex;
}

interface TenantIndex {
  readonly userByUpn: Map<string, StoredUser>;
  readonly groupByName: Map<string, StoredGroup>;
  readonly groupById: Map<string, StoredGroup>;
  /** /v1.0/users as served, with and without the accountEnabled filter. */
  readonly allUsers: Record<string, unknown>[];
  readonly enabledUsers: Record<string, unknown>[];
  readonly disabledUsers: Record<string, unknown>[];
  /** transitiveMembers as served, by group id (+ `/user` for the cast): asked again for every page. */
  readonly members: Map<string, Record<string, unknown>[]>;
}

export interface GraphThrottle {
  readonly status?: 429 | 503 | 504;
  readonly retryAfterSeconds?: number;
}

export interface GraphRequestLog {
  readonly method: string;
  readonly path: string; // pathname + search
  readonly status: number;
  readonly consistencyLevel?: string;
  /** The `client-request-id` the client sent. */
  readonly clientRequestId?: string;
}

/** Decides whether a bearer token is valid: from FakeExchangeOnline.tokenGrant. */
export type TokenCheck = (token: string) => { tenantId: string; scope: string } | undefined;

/** The worldwide Graph's token scope; a fake playing another cloud is given that cloud's. */
const GRAPH_AUDIENCE = 'https://graph.microsoft.com/.default';
const MAX_TOP = 999;

export class FakeGraph {
  /** http://127.0.0.1:P — use as SIGOPS_GRAPH_URL. */
  url = '';
  readonly requests: GraphRequestLog[] = [];
  /** Page size when the client asks for more (Graph's own pages may be smaller than $top). */
  pageSize: number;
  private readonly tenants = new Map<string, TenantData>();
  private throttleQueue: GraphThrottle[] = [];
  private throttlePeriodic: { every: number; options: GraphThrottle; seen: number } | undefined;
  private server: Server | undefined;
  private readonly audience: string;
  /** Every page of /v1.0/users carries the same @odata.nextLink again (seen on Graph: microsoftgraph/microsoft-graph-docs#4897). */
  repeatNextLink = false;

  constructor(
    private readonly checkToken: TokenCheck,
    options: { pageSize?: number; audience?: string } = {},
  ) {
    this.pageSize = options.pageSize ?? MAX_TOP;
    this.audience = options.audience ?? GRAPH_AUDIENCE;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.send(req, res, 500, { error: { code: 'InternalServerError', message: String(err) } }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  // ---- set-up ------------------------------------------------------------------------------

  /** A tenant with its users and groups; by default the app holds every permission the sync may need. */
  setTenant(tenantId: string, data: { users: readonly FakeGraphUser[]; groups?: readonly FakeGraphGroup[]; permissions?: readonly GraphPermission[] }): this {
    this.tenants.set(tenantId.toLowerCase(), {
      users: data.users.map((u) => ({ ...u, id: u.id ?? randomUUID() })),
      groups: (data.groups ?? []).map((g) => ({ ...g, id: g.id ?? randomUUID() })),
      permissions: new Set(data.permissions ?? ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read']),
    });
    return this;
  }

  setPermissions(tenantId: string, permissions: readonly GraphPermission[]): void {
    this.tenant(tenantId).permissions = new Set(permissions);
  }

  /** Changes one user in place (by userPrincipalName). */
  updateUser(tenantId: string, upn: string, change: Partial<FakeGraphUser>): void {
    const t = this.tenant(tenantId);
    const i = t.users.findIndex((u) => u.userPrincipalName === upn);
    if (i < 0) throw new Error(`fake graph: no user ${upn}`);
    t.users[i] = { ...t.users[i]!, ...change };
    t.index = undefined;
  }

  /** Adds a user to a tenant (a new hire between two syncs). */
  addUser(tenantId: string, user: FakeGraphUser): void {
    const t = this.tenant(tenantId);
    t.users.push({ ...user, id: user.id ?? randomUUID() });
    t.index = undefined;
  }

  /** The next `count` requests are throttled. */
  throttleNext(count: number, options: GraphThrottle = {}): void {
    for (let i = 0; i < count; i++) this.throttleQueue.push(options);
  }

  /**
   * Every `every`-th request from now on is throttled (undefined: stop), as Graph throttles a
   * long sync now and then rather than up front. Graph's throttling guidance:
   * https://learn.microsoft.com/graph/throttling (429 with Retry-After).
   */
  throttleEvery(every: number | undefined, options: GraphThrottle = {}): void {
    this.throttlePeriodic = every && every > 0 ? { every, options, seen: 0 } : undefined;
  }

  private tenant(tenantId: string): TenantData {
    const t = this.tenants.get(tenantId.toLowerCase());
    if (!t) throw new Error(`fake graph: no tenant ${tenantId}`);
    return t;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const cl = req.headers.consistencylevel;
    const sent = req.headers['client-request-id'];
    const clientRequestId = typeof sent === 'string' ? sent : undefined;
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      status,
      ...(typeof cl === 'string' ? { consistencyLevel: cl } : {}),
      ...(clientRequestId ? { clientRequestId } : {}),
    });
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
      // Graph names every answer and echoes the caller's id (https://learn.microsoft.com/graph/best-practices-concept).
      'request-id': randomUUID(),
      'client-request-id': clientRequestId ?? randomUUID(),
      ...headers,
    });
    res.end(text);
  }

  private error(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    const date = new Date().toISOString().slice(0, 19);
    this.send(req, res, status, { error: { code, message, innerError: { date, 'request-id': randomUUID(), 'client-request-id': randomUUID() } } }, headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Graph reads no body on GET; drain whatever came.
    for await (const _ of req) void _;
    const url = new URL(req.url ?? '/', 'http://fake');
    const periodic = this.throttlePeriodic;
    const throttle = this.throttleQueue.shift() ?? (periodic && ++periodic.seen % periodic.every === 0 ? periodic.options : undefined);
    if (throttle) {
      const status = throttle.status ?? 429;
      const headers: Record<string, string> = throttle.retryAfterSeconds !== undefined ? { 'Retry-After': String(throttle.retryAfterSeconds) } : {};
      return status === 429
        ? this.error(req, res, 429, 'TooManyRequests', 'Too many requests, please retry after some time.', headers)
        : this.error(req, res, status, 'serviceNotAvailable', 'The service is temporarily unavailable.', headers);
    }
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return this.error(req, res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const grant = this.checkToken(token);
    if (!grant) return this.error(req, res, 401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    if (grant.scope !== this.audience) return this.error(req, res, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    const t = this.tenants.get(grant.tenantId);
    if (!t) return this.error(req, res, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid issuer.');
    if (req.method !== 'GET') return this.error(req, res, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');

    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (path === '/v1.0/users') {
      if (!t.permissions.has('User.Read.All')) return this.denied(req, res);
      if (!this.filterOk(url, 'accountEnabled')) return this.unsupported(req, res);
      const unknown = url.searchParams.get('$select')?.split(',').map((s) => s.trim()).find((s) => s !== '' && !USER_PROPERTIES.has(s));
      if (unknown !== undefined) return this.error(req, res, 400, 'Request_BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`);
      const wanted = this.wantedBoolean(url);
      const index = this.index(t);
      return this.page(req, res, url, wanted === undefined ? index.allUsers : wanted ? index.enabledUsers : index.disabledUsers);
    }
    if ((m = /^\/v1\.0\/users\/([^/]+)\/mailboxSettings\/userPurpose$/.exec(path))) {
      if (!t.permissions.has('MailboxSettings.Read')) return this.error(req, res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      const key = decodeURIComponent(m[1]!);
      const user = t.users.find((u) => u.id === key || u.userPrincipalName.toLowerCase() === key.toLowerCase());
      if (!user) return this.error(req, res, 404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
      const purpose = user.mailboxPurpose === undefined ? (user.mail ? 'user' : null) : user.mailboxPurpose;
      if (purpose === null) return this.error(req, res, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      return this.send(req, res, 200, { '@odata.context': `${this.url}/v1.0/$metadata#users('${user.id}')/mailboxSettings/userPurpose`, value: purpose });
    }
    if (path === '/v1.0/groups') {
      if (!t.permissions.has('GroupMember.Read.All')) return this.denied(req, res);
      if (!this.filterOk(url, 'mailEnabled')) return this.unsupported(req, res);
      const wanted = this.wantedBoolean(url);
      const items = t.groups.filter((g) => wanted === undefined || (g.mailEnabled ?? Boolean(g.mail)) === wanted);
      return this.page(req, res, url, items.map((g) => ({ id: g.id, displayName: g.displayName, mail: g.mail ?? null, mailEnabled: g.mailEnabled ?? Boolean(g.mail) })));
    }
    if ((m = /^\/v1\.0\/groups\/([^/]+)\/transitiveMembers(\/microsoft\.graph\.user)?$/.exec(path))) {
      if (!t.permissions.has('GroupMember.Read.All')) return this.denied(req, res);
      const cast = Boolean(m[2]);
      if (cast && (req.headers.consistencylevel !== 'eventual' || url.searchParams.get('$count') !== 'true')) return this.unsupported(req, res);
      const group = this.index(t).groupById.get(decodeURIComponent(m[1]!));
      if (!group) return this.error(req, res, 404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
      if (group.hiddenMembership) return this.denied(req, res);
      const index = this.index(t);
      const key = `${group.id}${cast ? '/user' : ''}`;
      let items = index.members.get(key);
      if (!items) {
        items = this.transitive(t, group)
          .filter((x) => !cast || x.type === 'user')
          .map((x) => ({ '@odata.type': `#microsoft.graph.${x.type}`, ...x.obj }));
        index.members.set(key, items);
      }
      return this.page(req, res, url, items, cast && url.searchParams.get('$count') === 'true' ? items.length : undefined);
    }
    this.error(req, res, 400, 'Request_BadRequest', `Invalid request: ${req.method} ${path}`);
  }

  private denied(req: IncomingMessage, res: ServerResponse): void {
    this.error(req, res, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }

  private unsupported(req: IncomingMessage, res: ServerResponse): void {
    this.error(req, res, 400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  }

  /** No filter, or `<prop> eq true|false`: the only ones sigops uses (and Graph supports by default). */
  private filterOk(url: URL, prop: string): boolean {
    const f = url.searchParams.get('$filter');
    return f === null || new RegExp(`^${prop} eq (true|false)$`).test(f.trim());
  }

  /** The value a `<prop> eq true|false` filter asks for; undefined without a filter. */
  private wantedBoolean(url: URL): boolean | undefined {
    const f = url.searchParams.get('$filter');
    return f === null ? undefined : / eq true$/.test(f.trim());
  }

  private index(t: TenantData): TenantIndex {
    if (t.index) return t.index;
    const allUsers = t.users.map((u) => {
      const { mailboxPurpose: _, ...rest } = u;
      return { ...rest, accountEnabled: u.accountEnabled ?? true, proxyAddresses: u.proxyAddresses ?? [] } as unknown as Record<string, unknown>;
    });
    // The first of equal names wins, as a search through the list would find it.
    const first = <T,>(items: readonly T[], key: (x: T) => string): Map<string, T> => {
      const map = new Map<string, T>();
      for (const x of items) if (!map.has(key(x))) map.set(key(x), x);
      return map;
    };
    t.index = {
      userByUpn: first(t.users, (u) => u.userPrincipalName),
      groupByName: first(t.groups, (g) => g.displayName),
      groupById: first(t.groups, (g) => g.id),
      allUsers,
      enabledUsers: allUsers.filter((u) => u.accountEnabled !== false),
      disabledUsers: allUsers.filter((u) => u.accountEnabled === false),
      members: new Map(),
    };
    return t.index;
  }

  /** Users and groups under a group, nested groups followed once each. */
  private transitive(t: TenantData, group: StoredGroup): { type: 'user' | 'group'; obj: Record<string, unknown> }[] {
    const { userByUpn, groupByName } = this.index(t);
    const out: { type: 'user' | 'group'; obj: Record<string, unknown> }[] = [];
    const seen = new Set<string>([group.id]);
    const queue = [group];
    while (queue.length) {
      const g = queue.shift()!;
      for (const name of g.members) {
        const user = userByUpn.get(name);
        if (user && !seen.has(user.id)) {
          seen.add(user.id);
          out.push({ type: 'user', obj: user as unknown as Record<string, unknown> });
          continue;
        }
        const sub = groupByName.get(name);
        if (sub && !seen.has(sub.id)) {
          seen.add(sub.id);
          out.push({ type: 'group', obj: { id: sub.id, displayName: sub.displayName, mail: sub.mail ?? null } });
          queue.push(sub);
        }
      }
    }
    return out;
  }

  /** One page of a collection, only the $select-ed properties, with @odata.nextLink. */
  private page(req: IncomingMessage, res: ServerResponse, url: URL, items: Record<string, unknown>[], count?: number): void {
    const top = Math.min(Number(url.searchParams.get('$top') ?? '100') || 100, MAX_TOP, this.pageSize);
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const select = url.searchParams.get('$select')?.split(',').map((s) => s.trim()).filter(Boolean);
    const slice = items.slice(skip, skip + top).map((item) => {
      if (!select) return item;
      const out: Record<string, unknown> = {};
      if (item['@odata.type']) out['@odata.type'] = item['@odata.type'];
      // Graph returns every selected property, null when unset.
      for (const k of select) out[k] = item[k] ?? (k === 'businessPhones' || k === 'proxyAddresses' ? [] : null);
      return out;
    });
    const body: Record<string, unknown> = { '@odata.context': `${this.url}/v1.0/$metadata#directoryObjects` };
    if (count !== undefined) body['@odata.count'] = count;
    if (this.repeatNextLink) {
      // The bug reported on Graph: the same nextLink (first page's skiptoken) on every page.
      const next = new URL(url.pathname + url.search, this.url);
      next.searchParams.set('$skiptoken', String(top));
      body['@odata.nextLink'] = next.href;
    } else if (skip + top < items.length) {
      const next = new URL(url.pathname + url.search, this.url);
      next.searchParams.set('$skiptoken', String(skip + top));
      body['@odata.nextLink'] = next.href;
    }
    body.value = slice;
    this.send(req, res, 200, body);
  }
}
