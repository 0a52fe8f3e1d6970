// Exchange Online admin REST client: runs cmdlets through
// POST {exchangeUrl}/adminapi/beta/{tenantId}/InvokeCommand, follows @odata.nextLink paging,
// retries throttling with back-off (honouring Retry-After) and turns error bodies into typed errors.
import type { TokenProvider } from './auth.ts';
import {
  ExchangeApiError,
  ForbiddenError,
  ObjectExistsError,
  ObjectNotFoundError,
  ThrottledError,
  UnauthorizedError,
  UnknownParameterError,
} from './errors.ts';

export const DEFAULT_EXCHANGE_URL = 'https://outlook.office365.com';
const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/** A cmdlet parameter value as JSON carries it (null clears a property). */
export type ExchangeValue = string | number | boolean | null | readonly string[];
export type CmdletParameters = Readonly<Record<string, ExchangeValue>>;
/** One object as a Get- cmdlet returns it. */
export type ExchangeRecord = Readonly<Record<string, unknown>>;

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 7, baseDelayMs: 1000, maxDelayMs: 60_000 };

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ExchangeClientOptions {
  readonly exchangeUrl?: string; // SIGOPS_EXCHANGE_URL
  readonly tenantId: string;
  readonly tokens: TokenProvider;
  readonly retry?: RetryPolicy;
  /** Injectable so tests do not wait for real back-off. */
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  /**
   * X-AnchorMailbox routing hint. Default (app-only): the tenant's system mailbox. A delegated
   * (signed-in admin) token routes by the admin's own mailbox: `UPN:admin@contoso.com`.
   */
  readonly anchorMailbox?: string;
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { message?: string }[] };
}

/** Messages Exchange uses when too many requests of the app run at once: retried like 429. */
const CONCURRENCY_MESSAGE = /concurrent (requests|connections|operations)|MaxConcurrency|maximum number of (concurrent )?(connections|requests)/i;

export class ExchangeClient {
  readonly tenantId: string;
  private readonly endpoint: string;
  private readonly origin: string;
  private readonly tokens: TokenProvider;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly fetchImpl: typeof fetch;
  private readonly anchor: string;

  constructor(options: ExchangeClientOptions) {
    const base = (options.exchangeUrl ?? DEFAULT_EXCHANGE_URL).replace(/\/+$/, '');
    this.tenantId = options.tenantId;
    this.endpoint = `${base}/adminapi/beta/${encodeURIComponent(options.tenantId)}/InvokeCommand`;
    this.origin = new URL(base).origin;
    this.tokens = options.tokens;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    this.fetchImpl = options.fetch ?? fetch;
    this.anchor = options.anchorMailbox ?? `APP:${SYSTEM_MAILBOX}@${options.tenantId}`;
  }

  /** Runs one cmdlet and returns every object it output (all pages). */
  async invoke(cmdlet: string, parameters: CmdletParameters = {}): Promise<ExchangeRecord[]> {
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
    const out: ExchangeRecord[] = [];
    let url: string | undefined = this.endpoint;
    while (url) {
      const page: { value?: unknown; '@odata.nextLink'?: unknown } = await this.post(cmdlet, url, body);
      if (Array.isArray(page.value)) out.push(...(page.value as ExchangeRecord[]));
      const next = page['@odata.nextLink'];
      url = typeof next === 'string' && next ? this.checkNextLink(cmdlet, next) : undefined;
    }
    return out;
  }

  /** The bearer token goes only to the Exchange endpoint we were configured with. */
  private checkNextLink(cmdlet: string, next: string): string {
    const resolved = new URL(next, this.endpoint);
    if (resolved.origin !== this.origin) {
      throw new ExchangeApiError({ status: 0, cmdlet, message: `refusing to follow @odata.nextLink to another host: ${resolved.origin}` });
    }
    return resolved.href;
  }

  private async post(cmdlet: string, url: string, body: string): Promise<{ value?: unknown; '@odata.nextLink'?: unknown }> {
    const idempotent = cmdlet.startsWith('Get-');
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.attempts;
      const token = await this.tokens.getToken(this.tenantId);
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'X-AnchorMailbox': this.anchor,
            'X-ResponseFormat': 'json',
          },
          body,
        });
      } catch (err) {
        // A write may have reached the service: only reads are replayed after a network error.
        if (!idempotent || last) {
          throw new ExchangeApiError({ status: 0, cmdlet, message: `cannot reach Exchange Online: ${(err as Error).message}` });
        }
        await this.sleep(this.backoff(attempt, undefined));
        continue;
      }
      const { text, json } = await readJsonBody(res);
      if (res.ok && json && typeof json === 'object') return json as { value?: unknown };
      const error = this.toError(cmdlet, res.status, json as ErrorBody | undefined, text);
      const retriable =
        res.status === 429 || res.status === 503 || res.status === 504 || CONCURRENCY_MESSAGE.test(`${error.message} ${error.detail ?? ''}`);
      if (!retriable) throw error;
      if (last) {
        throw new ThrottledError({
          status: res.status,
          cmdlet,
          code: error.code ?? String(res.status),
          message: `still throttled after ${attempt} attempts: ${error.detail ?? error.message}`,
          ...(error.errId ? { errId: error.errId } : {}),
        });
      }
      await this.sleep(this.backoff(attempt, res.headers.get('retry-after')));
    }
  }

  private backoff(attempt: number, retryAfter: string | null | undefined): number {
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const jittered = exp / 2 + Math.random() * (exp / 2);
    const hinted = parseRetryAfter(retryAfter);
    return hinted !== undefined ? Math.max(hinted, jittered) : jittered;
  }

  private toError(cmdlet: string, status: number, json: ErrorBody | undefined, text: string): ExchangeApiError {
    const e = json?.error;
    const detailRaw = e?.details?.find((d) => typeof d.message === 'string')?.message;
    let errId: string | undefined;
    let exceptionClass: string | undefined;
    let detail: string | undefined;
    if (detailRaw) {
      const parts = detailRaw.split('|');
      if (parts.length >= 3) {
        errId = parts[0];
        exceptionClass = parts[1]?.split('.').pop();
        detail = parts.slice(2).join('|');
      } else detail = detailRaw;
    }
    const fields = {
      status,
      cmdlet,
      message: e?.message ?? (text.slice(0, 300) || `HTTP ${status}`),
      ...(e?.code ? { code: e.code } : { code: String(status) }),
      ...(errId ? { errId } : {}),
      ...(exceptionClass ? { exceptionClass } : {}),
      ...(detail ? { detail } : {}),
    };
    if (status === 401) return new UnauthorizedError(fields);
    if (status === 403) return new ForbiddenError(fields);
    if (exceptionClass === 'ManagementObjectNotFoundException') return new ObjectNotFoundError(fields);
    if (exceptionClass === 'ManagementObjectAlreadyExistsException') return new ObjectExistsError(fields);
    if (exceptionClass === 'ParameterBindingException') return new UnknownParameterError(fields);
    return new ExchangeApiError(fields);
  }
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

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
