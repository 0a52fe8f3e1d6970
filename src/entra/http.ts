// The HTTP plumbing every Microsoft cloud client of sigops shares (Exchange Online's admin API,
// Microsoft Graph): JSON over fetch with an app-only bearer token, retries of throttled or busy
// answers that honour Retry-After, and OData paging that never sends the token to another host.
// Each client supplies only what differs: the request, whether it may be replayed after a
// network error, which error answers are worth retrying, and its own typed errors.
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

/** A response's body as text, and parsed as JSON: {} when empty, undefined when it is not JSON. */
export async function readJsonBody(res: Response): Promise<{ text: string; json: unknown }> {
  const text = await res.text();
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

/** One JSON object as a service answers it (an OData page carries `value` and `@odata.nextLink`). */
export type JsonObject = Readonly<Record<string, unknown>>;

/** One request as a client describes it. */
export interface ServiceCall {
  readonly method: 'GET' | 'POST';
  /** Besides Authorization and Accept, which are always sent. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * May the call be sent again after a network error, when nobody knows whether it reached the
   * service? Yes for reads; a write could be carried out twice.
   */
  readonly replayable: boolean;
}

/** An answer that is not a usable success, as the client's error mapping sees it. */
export interface ErrorAnswer {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown;
  readonly text: string;
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
  unreachable(cause: Error, url: string): E;
  /** An @odata.nextLink that points at another origin: not followed, the token stays home. */
  foreignNextLink(target: URL): E;
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
}

/** One tenant's connection to one Microsoft cloud service, for app-only JSON calls. */
export class ServiceConnection {
  readonly tenantId: string;
  /** The origin the bearer token may be sent to. */
  readonly origin: string;
  private readonly tokens: TokenProvider;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ServiceConnectionOptions) {
    this.tenantId = options.tenantId;
    this.origin = new URL(options.serviceUrl).origin;
    this.tokens = options.tokens;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * Every item of an OData collection: the call is repeated for each @odata.nextLink, which
   * must stay on the service's origin (a relative link resolves against the page that gave it).
   */
  async collect<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    let next: string | undefined = url;
    while (next) {
      const page: JsonObject = await this.request(next, call, errors);
      if (Array.isArray(page.value)) out.push(...(page.value as JsonObject[]));
      const link: unknown = page['@odata.nextLink'];
      next = typeof link === 'string' && link ? this.sameOrigin(new URL(link, next), errors) : undefined;
    }
    return out;
  }

  /** One call whose answer is a JSON object, retried while the service is busy. */
  async request<E extends Error>(url: string, call: ServiceCall, errors: ServiceErrors<E>): Promise<JsonObject> {
    const retriable = errors.retriable ?? ((answer: ErrorAnswer) => isBusyStatus(answer.status));
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.attempts;
      const token = await this.tokens.getToken(this.tenantId);
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method: call.method,
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...call.headers },
          ...(call.body !== undefined ? { body: call.body } : {}),
        });
      } catch (err) {
        if (!call.replayable || last) throw errors.unreachable(err instanceof Error ? err : new Error(String(err)), url);
        await this.sleep(retryDelay(this.retry, attempt, undefined));
        continue;
      }
      const { text, json } = await readJsonBody(res);
      if (res.ok && json && typeof json === 'object') return json as JsonObject;
      const answer: ErrorAnswer = { url, status: res.status, headers: res.headers, json, text };
      const error = errors.answer(answer);
      if (!retriable(answer, error)) throw error;
      if (last) throw errors.exhausted(error, answer, attempt);
      await this.sleep(retryDelay(this.retry, attempt, res.headers.get('retry-after')));
    }
  }

  private sameOrigin<E extends Error>(target: URL, errors: ServiceErrors<E>): string {
    if (target.origin !== this.origin) throw errors.foreignNextLink(target);
    return target.href;
  }
}
