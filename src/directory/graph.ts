// Microsoft Graph client of `sigops directory sync`: GET with paging over the shared Entra
// plumbing (token, retries honouring Retry-After, same-origin @odata.nextLink). What is Graph's
// own is here: every GET may be replayed after a network error, and Graph's error answers
// become GraphError / GraphPermissionError.
import {
  DEFAULT_GRAPH_URL,
  GRAPH_SCOPE,
  ServiceConnection,
  createTokenProvider,
  type Credentials,
  type JsonObject,
  type RetryPolicy,
  type ServiceErrors,
  type Sleep,
  type TokenProvider,
} from '../entra/index.ts';
import { GraphError, GraphPermissionError } from './errors.ts';

export interface GraphClientOptions {
  readonly tenantId: string;
  readonly tokens: TokenProvider; // for GRAPH_SCOPE
  readonly graphUrl?: string; // SIGOPS_GRAPH_URL
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  readonly fetch?: typeof fetch;
}

/** Minimal Graph reader: GET with paging, throttling retries and typed errors. */
export class GraphClient {
  private readonly base: string;
  private readonly connection: ServiceConnection;

  constructor(options: GraphClientOptions) {
    this.base = (options.graphUrl ?? DEFAULT_GRAPH_URL).replace(/\/+$/, '');
    this.connection = new ServiceConnection({
      tenantId: options.tenantId,
      tokens: options.tokens,
      serviceUrl: this.base,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /** Every item of a collection, following @odata.nextLink. `path` starts with /v1.0/. */
  list(path: string, headers: Record<string, string> = {}): Promise<JsonObject[]> {
    // Reads are safe to replay after a network error.
    return this.connection.collect(`${this.base}${path}`, { method: 'GET', headers, replayable: true }, GRAPH_ERRORS);
  }
}

/** How Graph's failures become GraphError (GraphPermissionError for 401/403); 429/503/504 are retried. */
const GRAPH_ERRORS: ServiceErrors<GraphError> = {
  answer({ url, status, json, text }) {
    const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof e?.code === 'string' ? e.code : String(status);
    const detail = typeof e?.message === 'string' ? e.message : text.slice(0, 300) || `HTTP ${status}`;
    const fields = { status, code, url, message: `GET ${new URL(url).pathname}: HTTP ${status} ${code}: ${detail}` };
    return status === 401 || status === 403 ? new GraphPermissionError(fields) : new GraphError(fields);
  },
  exhausted: (error, _answer, attempts) =>
    new GraphError({ status: error.status, code: error.code, url: error.url, message: `still throttled after ${attempts} attempts: ${error.message}` }),
  unreachable: (cause, url) => new GraphError({ status: 0, code: 'network', url, message: `cannot reach Microsoft Graph: ${cause.message}` }),
  foreignNextLink: (target) =>
    new GraphError({ status: 0, code: 'nextLink', url: target.href, message: `refusing to follow @odata.nextLink to another host: ${target.origin}` }),
};

/** A token provider for Graph from the same credentials (and login URL) as Exchange. */
export function graphTokenProvider(options: { credentials: Credentials; loginUrl?: string; ca?: string }): TokenProvider {
  return createTokenProvider({ ...options, scope: GRAPH_SCOPE });
}
