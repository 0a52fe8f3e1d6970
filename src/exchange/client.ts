// Exchange Online admin REST client: runs cmdlets through
// POST {exchangeUrl}/adminapi/beta/{tenantId}/InvokeCommand. Token, retries (Retry-After),
// paging, request ids and body reading are the shared Entra plumbing; what is Exchange's own is
// here: the routing and paging headers, that only Get- cmdlets are replayed after a network
// error, that the "too many concurrent requests" answers are retried too, the warnings and
// errors Exchange reports inside a 200, and the typed errors.
//
// The wire format follows the ExchangeOnlineManagement module (the endpoint is not documented
// for third parties); open-source clients that speak it the same way: GreyCorbel/ExoHelper
// (ExoHelper.psm1: Prefer odata.maxpagesize, a fresh client-request-id per request,
// `@adminapi.warnings`, errors as "ErrId|ExceptionClass|text") and DrollRobot/azure-auth
// (src/azure_auth/clients/invoke_command.py: the same headers, and the 403 with an undecodable
// body for a cmdlet the caller may not run).
import type { Logger } from '../log/index.ts';
import {
  DEFAULT_EXCHANGE_URL,
  ServiceConnection,
  formatPagingProblem,
  isBusyStatus,
  type ErrorAnswer,
  type RequestIds,
  type RetryPolicy,
  type ServiceErrors,
  type ServicePage,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import {
  ConnectorInUseError,
  ExchangeApiError,
  ForbiddenError,
  isConnectorInUse,
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

/** What one cmdlet run gave: its output objects (all pages) and the warnings Exchange wrote. */
export interface CmdletResult {
  readonly records: ExchangeRecord[];
  readonly warnings: string[];
}

/** Objects per page sigops asks for; the most Exchange's REST endpoint serves (the module asks the same). */
export const PAGE_SIZE = 1000;

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
  /** Failed requests (with their ids) and Exchange's warnings are logged here. */
  readonly logger?: Logger;
  /** Most pages one cmdlet's output may take (default: the shared plumbing's). */
  readonly maxPages?: number;
}

interface ErrorObject {
  code?: string;
  message?: string;
  details?: { message?: string }[];
}
interface ErrorBody {
  error?: ErrorObject;
}

/** Messages Exchange uses when too many requests of the app run at once: retried like 429. */
const CONCURRENCY_MESSAGE = /concurrent (requests|connections|operations)|MaxConcurrency|maximum number of (concurrent )?(connections|requests)/i;

export class ExchangeClient {
  readonly tenantId: string;
  private readonly endpoint: string;
  private readonly connection: ServiceConnection;
  private readonly anchor: string;
  private readonly logger: Logger | undefined;

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
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.maxPages !== undefined ? { maxPages: options.maxPages } : {}),
    });
    this.anchor = options.anchorMailbox ?? `APP:${SYSTEM_MAILBOX}@${options.tenantId}`;
    this.logger = options.logger;
  }

  /** Runs one cmdlet and returns every object it output (all pages). */
  async invoke(cmdlet: string, parameters: CmdletParameters = {}): Promise<ExchangeRecord[]> {
    return (await this.run(cmdlet, parameters)).records;
  }

  /**
   * Runs one cmdlet: every object it output (all pages) and its warnings. An error Exchange
   * reports inside a 200 answer fails the cmdlet like an error answer would, with the
   * service's text: a write that did not happen must not pass for done, and a read that
   * failed must not pass for an empty tenant.
   */
  async run(cmdlet: string, parameters: CmdletParameters = {}): Promise<CmdletResult> {
    const call = {
      method: 'POST' as const,
      headers: {
        'Content-Type': 'application/json',
        'X-AnchorMailbox': this.anchor,
        'X-ResponseFormat': 'json',
        Prefer: `odata.maxpagesize=${PAGE_SIZE}`,
      },
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
      // A write may have reached the service: only reads are replayed after a network error.
      replayable: cmdlet.startsWith('Get-'),
    };
    const pages = await this.connection.collectPages(this.endpoint, call, cmdletErrors(cmdlet));
    const records: ExchangeRecord[] = [];
    const warnings: string[] = [];
    for (const page of pages) {
      const failure = errorInPage(cmdlet, page);
      if (failure) {
        this.logger?.warn(
          { tenantId: this.tenantId, cmdlet, status: 200, code: failure.code, clientRequestId: page.clientRequestId, requestId: page.requestId },
          'cmdlet failed (error inside a 200 answer)',
        );
        throw failure;
      }
      warnings.push(...warningsOf(page));
      if (Array.isArray(page.body.value)) records.push(...(page.body.value as ExchangeRecord[]));
    }
    if (warnings.length > 0) {
      this.logger?.warn({ tenantId: this.tenantId, cmdlet, warnings, clientRequestId: pages.at(-1)?.clientRequestId }, 'Exchange warnings');
    }
    return { records, warnings: [...new Set(warnings)] };
  }
}

/** `{ clientRequestId, requestId }` as errors carry them. */
function reference(ids: RequestIds): { request: RequestIds } {
  return { request: { clientRequestId: ids.clientRequestId, ...(ids.requestId ? { requestId: ids.requestId } : {}) } };
}

/**
 * Warnings of one page: `@adminapi.warnings` (a list of strings in every answer, usually
 * empty) and the `X-Warnings` header, which the ExchangeOnlineManagement module reads.
 */
function warningsOf(page: ServicePage): string[] {
  const out: string[] = [];
  const inBody = page.body['@adminapi.warnings'];
  if (Array.isArray(inBody)) for (const w of inBody) out.push(...textsOf(w));
  const header = page.headers.get('x-warnings');
  if (header?.trim()) out.push(header.trim());
  return out.filter((w) => w !== '');
}

/** A message given as a string or as `{ message }` / `{ Message }`. */
function textsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v.trim()];
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const m = o.message ?? o.Message;
    if (typeof m === 'string') return [m.trim()];
  }
  return [];
}

/**
 * An error reported inside a 200: `@adminapi.errors` (its entries like error details,
 * "ErrId|ExceptionClass|text", or objects with a message) or an `error` object like an error
 * answer's. Mapped like an error answer, so e.g. "couldn't be found" stays an ObjectNotFoundError.
 */
function errorInPage(cmdlet: string, page: ServicePage): ExchangeApiError | undefined {
  const listed = page.body['@adminapi.errors'];
  const texts = Array.isArray(listed) ? listed.flatMap(textsOf).filter((t) => t !== '') : [];
  const inline = page.body.error;
  if (texts.length === 0 && !(inline && typeof inline === 'object')) return undefined;
  const error: ErrorObject =
    inline && typeof inline === 'object'
      ? (inline as ErrorObject)
      : { code: 'CmdletError', message: texts.join(' '), details: texts.map((message) => ({ message })) };
  const answer: Answer = {
    status: 200,
    json: { error },
    text: '',
    headers: page.headers,
    clientRequestId: page.clientRequestId,
    ...(page.requestId ? { requestId: page.requestId } : {}),
  };
  return toError(cmdlet, answer, texts.length > 1 ? texts : undefined);
}

/** How InvokeCommand's failures of one cmdlet become typed Exchange errors. */
function cmdletErrors(cmdlet: string): ServiceErrors<ExchangeApiError> {
  return {
    answer: (a) => toError(cmdlet, a),
    retriable: (a, error) => isBusyStatus(a.status) || CONCURRENCY_MESSAGE.test(`${error.message} ${error.detail ?? ''}`),
    exhausted: (error, a, attempts) =>
      new ThrottledError({
        status: a.status,
        cmdlet,
        code: error.code ?? String(a.status),
        message: `still throttled after ${attempts} attempts: ${error.detail ?? error.message}`,
        ...(error.errId ? { errId: error.errId } : {}),
        ...reference(a),
      }),
    unreachable: (cause, _url, ids) =>
      new ExchangeApiError({ status: 0, cmdlet, message: `cannot reach Exchange Online: ${cause.message}`, ...reference(ids) }),
    foreignNextLink: (target) =>
      new ExchangeApiError({ status: 0, cmdlet, message: `refusing to follow @odata.nextLink to another host: ${target.origin}` }),
    endlessPaging: (target, reason, pages) =>
      new ExchangeApiError({
        status: 0,
        cmdlet,
        code: 'endless-paging',
        message: formatPagingProblem('Exchange Online', target, reason, pages),
        advice: 'Exchange Online paged without end, so its answer cannot be trusted to be complete: run again later; if it persists, report it to Microsoft support.',
      }),
  };
}

/** The parts of an answer toError reads. */
type Answer = Pick<ErrorAnswer, 'status' | 'json' | 'text' | 'headers' | 'unreadable' | 'clientRequestId' | 'requestId'>;

/**
 * An error answer of InvokeCommand (or an error inside a 200) as the typed error for its status
 * or exception class. `details` lists every error text when there are several.
 */
function toError(cmdlet: string, a: Answer, details?: readonly string[]): ExchangeApiError {
  const e = (a.json as ErrorBody | undefined)?.error;
  const detailRaw = e?.details?.find((d) => typeof d.message === 'string')?.message;
  let errId: string | undefined;
  let exceptionClass: string | undefined;
  let detail: string | undefined;
  if (detailRaw) {
    const parts = detailRaw.split('|');
    if (parts.length >= 3) {
      errId = parts[0] || undefined;
      exceptionClass = parts[1]?.split('.').pop();
      detail = parts.slice(2).join('|');
    } else detail = detailRaw;
  }
  if (details && details.length > 1) detail = details.map((d) => d.split('|').slice(-1)[0]).join(' ');
  const fields = {
    status: a.status,
    cmdlet,
    message: typeof e?.message === 'string' && e.message ? e.message : withoutErrorBody(a),
    ...(e?.code ? { code: e.code } : { code: String(a.status) }),
    ...(errId ? { errId } : {}),
    ...(exceptionClass ? { exceptionClass } : {}),
    ...(detail ? { detail } : {}),
    ...reference(a),
  };
  if (a.status === 401) return new UnauthorizedError(fields);
  if (a.status === 403) return new ForbiddenError(fields);
  if (exceptionClass === 'ManagementObjectNotFoundException') return new ObjectNotFoundError(fields);
  if (exceptionClass === 'ManagementObjectAlreadyExistsException') return new ObjectExistsError(fields);
  if (exceptionClass === 'ParameterBindingException') return new UnknownParameterError(fields);
  if (isConnectorInUse(exceptionClass, detail ?? fields.message)) return new ConnectorInUseError(fields);
  return new ExchangeApiError(fields);
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/**
 * What to say about an answer without an error object: Exchange answers a cmdlet the app may
 * not run with a 403 whose body is empty or not even readable, and a refused token with a 401
 * that says why only in its WWW-Authenticate header.
 */
function withoutErrorBody(a: Answer): string {
  const head = `HTTP ${a.status}${STATUS_TEXT[a.status] ? ` ${STATUS_TEXT[a.status]}` : ''}`;
  const challenge = a.status === 401 ? describeChallenge(a.headers.get('www-authenticate')) : '';
  let body: string;
  if (a.unreadable) body = `the body could not be decoded (${a.unreadable})`;
  else if (a.text.replace(/[\s\0]/g, '') === '') body = 'no error body';
  else if (a.json === undefined) body = `a body that is not JSON: ${JSON.stringify(a.text.slice(0, 120))}`;
  else body = `an unexpected body: ${a.text.slice(0, 200)}`;
  return `${head}${challenge}, with ${body}`;
}

/** The parts of a `WWW-Authenticate: Bearer …` challenge an admin can act on. */
function describeChallenge(header: string | null): string {
  if (!header) return '';
  const params = new Map<string, string>();
  for (const m of header.matchAll(/([a-z_]+)="([^"]*)"/gi)) params.set(m[1]!.toLowerCase(), m[2]!);
  const parts: string[] = [];
  const error = params.get('error');
  if (error) parts.push(params.get('error_description') ? `${error}: ${params.get('error_description')}` : error);
  const authority = params.get('authorization_uri');
  if (authority) {
    try {
      parts.push(`Exchange expects tokens from ${new URL(authority).origin}`);
    } catch {
      parts.push(`Exchange expects tokens from ${authority}`);
    }
  }
  return parts.length ? ` (${parts.join('; ')})` : '';
}
