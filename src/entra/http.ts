// The HTTP plumbing every Microsoft cloud client of sigops shares (Exchange Online's admin API,
// Microsoft Graph): JSON over fetch with an app-only bearer token, retries of throttled or busy
// answers that honour Retry-After, and OData paging that never sends the token to another host.
// Every request carries a fresh `client-request-id` (a GUID), which Microsoft's services log: the
// id of a failed call is in the typed error and in the log, for an admin to quote to support.
// Each client supplies only what differs: the request, whether it may be replayed after a
// network error, which error answers are worth retrying, and its own typed errors.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/index.ts';
import type { TokenProvider } from './auth.ts';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly attempts: number;
  /** First back-off when the service names no wait; doubles with every attempt. */
  readonly baseDelayMs: number;
  /** The longest single wait, whether from back-off or from Retry-After. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 7, baseDelayMs: 1000, maxDelayMs: 60_000 };

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry-After is either delta-seconds or an HTTP date. Milliseconds, undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait after failed attempt number `attempt` (1-based).
 *
 * Retry-After given: wait what it asks, capped at `maxDelayMs`. Graph and Exchange Online both
 * send it with their 429s and Microsoft asks clients to wait that long: sooner only earns another
 * 429 (and counts against the app's quota), longer slows the run for nothing. The cap keeps a
 * broken or hostile value from stalling a run; the attempt budget still bounds the total.
 *
 * No Retry-After (a network error, most 503/504): exponential back-off from `baseDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (half fixed, half random) so parallel workers
 * do not come back in lockstep.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | null | undefined,
  now = Date.now(),
  random: () => number = Math.random,
): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, policy.maxDelayMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + random() * (exp / 2);
}

/** A response's body: its text, parsed as JSON ({} when empty, undefined when not JSON), and why it could not be read. */
export interface ResponseBody {
  readonly text: string;
  readonly json: unknown;
  /**
   * Set when the body could not be read at all. Exchange answers some 403s with a body declared
   * gzip that is not (NUL bytes): fetch then rejects with a bare `TypeError: terminated`, which
   * must not hide the status that was actually sent.
   */
  readonly unreadable?: string;
}

export async function readJsonBody(res: Response): Promise<ResponseBody> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    const cause = (err as Error & { cause?: { message?: string } }).cause?.message;
    return { text: '', json: undefined, unreadable: cause ? `${(err as Error).message}: ${cause}` : String((err as Error).message ?? err) };
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  return { text, json };
}

/** Throttled (429) or busy (503, 504): the answers every Microsoft cloud service asks to retry. */
export function isBusyStatus(status: number): boolean {
  return status === 429 || status === 503 || status === 504;
}

/** What to say when paging does not end (ServiceErrors.endlessPaging), the same for every service. */
export function formatPagingProblem(service: string, target: URL, reason: 'repeated' | 'too-many', pages: number): string {
  const where = `${target.origin}${target.pathname}`;
  return reason === 'repeated'
    ? `${service} handed out an @odata.nextLink already followed (${where}) after ${pages} page${pages === 1 ? '' : 's'}: stopped instead of looping forever`
    : `${service} still had an @odata.nextLink (${where}) after ${pages} pages: stopped at the page limit`;
}

/** One JSON object as a service answers it (an OData page carries `value` and `@odata.nextLink`). */
export type JsonObject = Readonly<Record<string, unknown>>;

/** One request as a client describes it. */
export interface ServiceCall {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Besides Authorization and Accept, which are always sent. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * May the call be sent again after a network error, when nobody knows whether it reached the
   * service? Yes for reads; a write could be carried out twice.
   */
  readonly replayable: boolean;
}

/** The ids of one request: the one sigops sent, and the one the service answered with (if any). */
export interface RequestIds {
  /** `client-request-id` sigops sent (a fresh GUID per request). */
  readonly clientRequestId: string;
  /** The service's own `request-id` response header, when it sent one. */
  readonly requestId?: string;
}

/** An answer that is not a usable success, as the client's error mapping sees it. */
export interface ErrorAnswer extends RequestIds {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON; undefined when it is not JSON (or could not be read). */
  readonly json: unknown;
  readonly text: string;
  /** Why the body could not be read at all (see ResponseBody). */
  readonly unreadable?: string;
}

/** One page of an answer: its JSON, its headers and the ids of the request that fetched it. */
export interface ServicePage extends RequestIds {
  readonly body: JsonObject;
  readonly headers: Headers;
}

/** How one service's failures become the client's typed errors. */
export interface ServiceErrors<E extends Error> {
  /** An error answer of the service. */
  answer(answer: ErrorAnswer): E;
  /** Whether the answer means "busy, try again later". Default: isBusyStatus(status). */
  retriable?(answer: ErrorAnswer, error: E): boolean;
  /** Still busy when the last attempt was made. */
  exhausted(error: E, answer: ErrorAnswer, attempts: number): E;
  /** No answer at all (DNS, connection, TLS), when the call may not be or was no longer replayed. */
  unreachable(cause: Error, url: string, ids: RequestIds): E;
  /** An @odata.nextLink that points at another origin: not followed, the token stays home. */
  foreignNextLink(target: URL): E;
  /**
   * Paging that does not end: an @odata.nextLink already followed (`repeated`), or more pages
   * than `maxPages` (`too-many`). Microsoft Graph has been seen to hand out the same nextLink
   * again and again; following it would loop forever.
   */
  endlessPaging(target: URL, reason: 'repeated' | 'too-many', pages: number): E;
}

export interface ServiceConnectionOptions {
  readonly tenantId: string;
  readonly tokens: TokenProvider;
  /** The service's URL: only its origin ever receives the bearer token. */
  readonly serviceUrl: string;
  readonly retry?: RetryPolicy;
  /** Injectable so tests do not wait for real back-off. */
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  /** Most pages one collection may take (default DEFAULT_MAX_PAGES). */
  readonly maxPages?: number;
  /** Receives one warning per failed request (status, ids; never headers or bodies). */
  readonly logger?: Logger;
}

/** 10,000 pages: ten million Exchange objects at 1000 a page, far beyond any tenant sigops reads. */
export const DEFAULT_MAX_PAGES = 10_000;

/** One tenant's connection to one Microsoft cloud service, for app-only JSON calls. */
export class ServiceConnection {
  readonly tenantId: string;
  /** The origin the bearer token may be sent to. */
  readonly origin: string;
  private readonly tokens: TokenProvider;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly fetchImpl: typeof fetch;
  private readonly maxPages: number;
  private readonly logger: Logger | undefined;

  constructor(options: ServiceConnectionOptions) {
    this.tenantId = options.tenantId;
    this.origin = new URL(options.serviceUrl).origin;
    this.tokens = options.tokens;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    this.fetchImpl = options.fetch ?? fetch;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.logger = options.logger;
  }

  /**
   * Every item of an OData collection: the call is repeated for each @odata.nextLink, which
   * must stay on the service's origin (a relative link resolves against the page that gave it).
   */
  async collect<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (const page of await this.collectPages(url, call, errors)) {
      if (Array.isArray(page.body.value)) out.push(...(page.body.value as JsonObject[]));
    }
    return out;
  }

  /**
   * Every page of an OData collection, with its headers and request ids, for clients that read
   * more than `value` (Exchange's warnings). A nextLink already followed, or more than
   * `maxPages` pages, ends in `errors.endlessPaging` instead of an endless loop.
   */
  async collectPages<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<ServicePage[]> {
    const pages: ServicePage[] = [];
    const followed = new Set<string>([new URL(url).href]);
    let next: string | undefined = url;
    while (next) {
      const page: ServicePage = await this.requestPage(next, call, errors);
      pages.push(page);
      const link: unknown = page.body['@odata.nextLink'];
      if (typeof link !== 'string' || !link) break;
      const target: URL = new URL(link, next);
      next = this.sameOrigin(target, errors);
      if (followed.has(next)) throw errors.endlessPaging(target, 'repeated', pages.length);
      if (pages.length >= this.maxPages) throw errors.endlessPaging(target, 'too-many', pages.length);
      followed.add(next);
    }
    return pages;
  }

  /** One call whose answer is a JSON object, retried while the service is busy. */
  async request<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<JsonObject> {
    return (await this.requestPage(url, call, errors)).body;
  }

  /** `request`, with the answer's headers and the ids of the request that succeeded. */
  async requestPage<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<ServicePage> {
    const retriable = errors.retriable ?? ((answer: ErrorAnswer) => isBusyStatus(answer.status));
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.attempts;
      const token = await this.tokens.getToken(this.tenantId);
      // A fresh id per request (retries included): each is a separate call in the service's logs.
      const clientRequestId = randomUUID();
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method: call.method,
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...call.headers, 'client-request-id': clientRequestId },
          ...(call.body !== undefined ? { body: call.body } : {}),
        });
      } catch (err) {
        const cause = err instanceof Error ? err : new Error(String(err));
        const retrying = call.replayable && !last;
        this.logFailure(url, call, { clientRequestId }, attempt, retrying, { error: cause.message });
        if (!retrying) throw errors.unreachable(cause, url, { clientRequestId });
        await this.sleep(retryDelay(this.retry, attempt, undefined));
        continue;
      }
      const requestId = res.headers.get('request-id') ?? undefined;
      const ids: RequestIds = { clientRequestId, ...(requestId ? { requestId } : {}) };
      const body = await readJsonBody(res);
      if (res.ok && body.json && typeof body.json === 'object') return { body: body.json as JsonObject, headers: res.headers, ...ids };
      const answer: ErrorAnswer = {
        url,
        status: res.status,
        headers: res.headers,
        json: body.json,
        text: body.text,
        ...(body.unreadable ? { unreadable: body.unreadable } : {}),
        ...ids,
      };
      const error = errors.answer(answer);
      const retrying = retriable(answer, error) && !last;
      this.logFailure(url, call, ids, attempt, retrying, { status: res.status, code: (error as Error & { code?: unknown }).code });
      if (!retriable(answer, error)) throw error;
      if (last) throw errors.exhausted(error, answer, attempt);
      await this.sleep(retryDelay(this.retry, attempt, res.headers.get('retry-after')));
    }
  }

  /**
   * One log line per failed request: where, what came back and the ids to quote (no headers, no
   * bodies). Warnings for what an admin should see (retries, no answer, server errors); the
   * service's plain refusals (4xx), which the caller reports or handles, only at info.
   */
  private logFailure(url: string, call: ServiceCall, ids: RequestIds, attempt: number, retrying: boolean, outcome: { status?: number; code?: unknown; error?: string }): void {
    if (!this.logger) return;
    const { pathname } = new URL(url);
    const status = outcome.status ?? 0;
    const level = retrying || status === 0 || status === 429 || status >= 500 ? 'warn' : 'info';
    this.logger[level](
      { service: this.origin, tenantId: this.tenantId, method: call.method, path: pathname, attempt, retrying, ...outcome, ...ids },
      retrying ? 'request failed, retrying' : 'request failed',
    );
  }

  private sameOrigin<E extends Error>(target: URL, errors: ServiceErrors<E>): string {
    if (target.origin !== this.origin) throw errors.foreignNextLink(target);
    return target.href;
  }
}
