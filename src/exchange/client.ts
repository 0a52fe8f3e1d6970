// Exchange Online admin REST client: runs cmdlets through
// POST {exchangeUrl}/adminapi/beta/{tenantId}/InvokeCommand. Token, retries (Retry-After),
// paging and body reading are the shared Entra plumbing; what is Exchange's own is here: the
// routing headers, that only Get- cmdlets are replayed after a network error, that the
// "too many concurrent requests" answers are retried too, and the typed errors.
import {
  DEFAULT_EXCHANGE_URL,
  ServiceConnection,
  isBusyStatus,
  type RetryPolicy,
  type ServiceErrors,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import {
  ExchangeApiError,
  ForbiddenError,
  ObjectExistsError,
  ObjectNotFoundError,
  ThrottledError,
  UnauthorizedError,
  UnknownParameterError,
} from './errors.ts';

const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/** A cmdlet parameter value as JSON carries it (null clears a property). */
export type ExchangeValue = string | number | boolean | null | readonly string[];
export type CmdletParameters = Readonly<Record<string, ExchangeValue>>;
/** One object as a Get- cmdlet returns it. */
export type ExchangeRecord = Readonly<Record<string, unknown>>;

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
  private readonly connection: ServiceConnection;
  private readonly anchor: string;

  constructor(options: ExchangeClientOptions) {
    const base = (options.exchangeUrl ?? DEFAULT_EXCHANGE_URL).replace(/\/+$/, '');
    this.tenantId = options.tenantId;
    this.endpoint = `${base}/adminapi/beta/${encodeURIComponent(options.tenantId)}/InvokeCommand`;
    this.connection = new ServiceConnection({
      tenantId: options.tenantId,
      tokens: options.tokens,
      serviceUrl: base,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.anchor = options.anchorMailbox ?? `APP:${SYSTEM_MAILBOX}@${options.tenantId}`;
  }

  /** Runs one cmdlet and returns every object it output (all pages). */
  async invoke(cmdlet: string, parameters: CmdletParameters = {}): Promise<ExchangeRecord[]> {
    const call = {
      method: 'POST' as const,
      headers: { 'Content-Type': 'application/json', 'X-AnchorMailbox': this.anchor, 'X-ResponseFormat': 'json' },
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
      // A write may have reached the service: only reads are replayed after a network error.
      replayable: cmdlet.startsWith('Get-'),
    };
    return this.connection.collect(this.endpoint, call, cmdletErrors(cmdlet));
  }
}

/** How InvokeCommand's failures of one cmdlet become typed Exchange errors. */
function cmdletErrors(cmdlet: string): ServiceErrors<ExchangeApiError> {
  return {
    answer: (a) => toError(cmdlet, a.status, a.json as ErrorBody | undefined, a.text),
    retriable: (a, error) => isBusyStatus(a.status) || CONCURRENCY_MESSAGE.test(`${error.message} ${error.detail ?? ''}`),
    exhausted: (error, a, attempts) =>
      new ThrottledError({
        status: a.status,
        cmdlet,
        code: error.code ?? String(a.status),
        message: `still throttled after ${attempts} attempts: ${error.detail ?? error.message}`,
        ...(error.errId ? { errId: error.errId } : {}),
      }),
    unreachable: (cause) => new ExchangeApiError({ status: 0, cmdlet, message: `cannot reach Exchange Online: ${cause.message}` }),
    foreignNextLink: (target) =>
      new ExchangeApiError({ status: 0, cmdlet, message: `refusing to follow @odata.nextLink to another host: ${target.origin}` }),
  };
}

/** An error answer of InvokeCommand as the typed error for its status or exception class. */
function toError(cmdlet: string, status: number, json: ErrorBody | undefined, text: string): ExchangeApiError {
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
