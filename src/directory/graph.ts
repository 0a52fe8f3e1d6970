// Microsoft Graph client of `sigops directory sync`: GET with paging over the shared Entra
// plumbing (token, retries honouring Retry-After, same-origin @odata.nextLink that never loops,
// a client-request-id per request). What is Graph's own is here: every GET may be replayed
// after a network error, and Graph's error answers become GraphError / GraphPermissionError.
import type { Logger } from '../log/index.ts';
import {
  ServiceConnection,
  cloudEndpoints,
  createTokenProvider,
  formatPagingProblem,
  type CloudName,
  type Credentials,
  type ErrorAnswer,
  type JsonObject,
  type RetryPolicy,
  type ServiceErrors,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import { GraphError, GraphPermissionError } from './errors.ts';

export interface GraphClientOptions {
  readonly tenantId: string;
  readonly tokens: TokenProvider; // for the cloud's Graph scope
  /** The tenant's Microsoft cloud (default the worldwide one): where Graph is. */
  readonly cloud?: CloudName;
  readonly graphUrl?: string; // SIGOPS_GRAPH_URL overrides the cloud's Graph URL
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
  readonly logger?: Logger;
}

/** Minimal Graph reader: GET with paging, throttling retries and typed errors. */
export class GraphClient {
  private readonly base: string;
  private readonly connection: ServiceConnection;

  constructor(options: GraphClientOptions) {
    this.base = (options.graphUrl ?? cloudEndpoints(options.cloud).graphUrl).replace(/\/+$/, '');
    this.connection = new ServiceConnection({
      tenantId: options.tenantId,
      tokens: options.tokens,
      serviceUrl: this.base,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** Every item of a collection, following @odata.nextLink. `path` starts with /v1.0/. */
  list(path: string, headers: Record<string, string> = {}): Promise<JsonObject[]> {
    // Reads are safe to replay after a network error.
    return this.connection.collect(`${this.base}${path}`, { method: 'GET', headers, replayable: true }, GRAPH_ERRORS);
  }

  /** One object (a single entity or property), e.g. /v1.0/users/{id}/mailboxSettings/userPurpose. */
  get(path: string, headers: Record<string, string> = {}): Promise<JsonObject> {
    return this.connection.request(`${this.base}${path}`, { method: 'GET', headers, replayable: true }, GRAPH_ERRORS);
  }
}

/** How Graph's failures become GraphError (GraphPermissionError for 401/403); 429/503/504 are retried. */
const GRAPH_ERRORS: ServiceErrors<GraphError> = {
  answer(a: ErrorAnswer) {
    const { url, status, json, text } = a;
    const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof e?.code === 'string' ? e.code : String(status);
    const detail =
      typeof e?.message === 'string' ? e.message : a.unreadable ? `unreadable body (${a.unreadable})` : text.slice(0, 300) || `HTTP ${status}`;
    const fields = { status, code, url, message: `GET ${new URL(url).pathname}: HTTP ${status} ${code}: ${detail}`, request: ids(a) };
    return status === 401 || status === 403 ? new GraphPermissionError(fields) : new GraphError(fields);
  },
  exhausted: (error, answer, attempts) =>
    new GraphError({
      status: error.status,
      code: error.code,
      url: error.url,
      message: `still throttled after ${attempts} attempts: ${error.message}`,
      request: ids(answer),
    }),
  unreachable: (cause, url, requestIds) =>
    new GraphError({ status: 0, code: 'network', url, message: `cannot reach Microsoft Graph: ${cause.message}`, request: ids(requestIds) }),
  foreignNextLink: (target) =>
    new GraphError({ status: 0, code: 'nextLink', url: target.href, message: `refusing to follow @odata.nextLink to another host: ${target.origin}` }),
  endlessPaging: (target, reason, pages) =>
    new GraphError({
      status: 0,
      code: 'endless-paging',
      url: target.href,
      message: formatPagingProblem('Microsoft Graph', target, reason, pages),
      advice: 'Graph paged without end, so the directory it returned cannot be trusted to be complete: run the sync again later.',
    }),
};

function ids(a: { clientRequestId: string; requestId?: string }): { clientRequestId: string; requestId?: string } {
  return { clientRequestId: a.clientRequestId, ...(a.requestId ? { requestId: a.requestId } : {}) };
}

/** A token provider for the Graph of the tenant's cloud, from the same credentials (and login URL override) as Exchange. */
export function graphTokenProvider(options: { credentials: Credentials; loginUrl?: string; ca?: string; cloud?: CloudName }): TokenProvider {
  const { cloud: name, ...rest } = options;
  const cloud = cloudEndpoints(name);
  return createTokenProvider({ ...rest, loginUrl: options.loginUrl ?? cloud.loginUrl, scope: cloud.graphScope });
}
