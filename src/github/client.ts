// The GitHub REST client (@octokit/rest, base URL from GITHUB_API_URL) and the translation of its
// failures into errors a workflow author can act on.
import { Octokit } from '@octokit/rest';
import { SigopsError } from '../errors/index.ts';

export type GitHubClient = InstanceType<typeof Octokit>;

export interface ClientOptions {
  readonly token: string;
  readonly apiUrl: string;
  readonly userAgent?: string;
  /** First wait before retrying a 5xx (doubled each time; default 1 s). */
  readonly retryDelayMs?: number;
  /** Retries of an idempotent request answered 500/502/503/504 (default 2). */
  readonly retries?: number;
}

const RETRIED_STATUS = new Set([500, 502, 503, 504]);
// A POST that timed out may have created the comment: never repeated, or it could duplicate.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE']);

export function createClient(options: ClientOptions): GitHubClient {
  const quiet = (): void => {};
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.apiUrl,
    userAgent: options.userAgent ?? 'sigops-action',
    // Failures are reported once, explained, by the caller; Octokit's own request log would
    // print a second, bare line for each.
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  const retries = options.retries ?? 2;
  const firstDelay = options.retryDelayMs ?? 1000;
  // GitHub answers the odd 502/503 under load; one more try usually succeeds.
  octokit.hook.wrap('request', async (request, opts) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(opts);
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        const method = String(opts.method ?? 'GET').toUpperCase();
        if (attempt >= retries || typeof status !== 'number' || !RETRIED_STATUS.has(status) || !IDEMPOTENT.has(method)) throw err;
        await new Promise((resolve) => setTimeout(resolve, firstDelay * 2 ** attempt));
      }
    }
  });
  return octokit;
}

interface HttpErrorLike {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, string | number | undefined> };
}

function isHttpError(err: unknown): err is HttpErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { status?: unknown }).status === 'number' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

export interface ApiFieldError {
  readonly resource?: string;
  readonly field?: string;
  readonly code?: string;
  readonly message?: string;
}

/**
 * A GitHub REST call that failed, with what was being done and what to do about it. `code` is
 * the HTTP status, or `github-unreachable` when no answer came back; `advice` is the hint.
 */
export class GitHubApiError extends SigopsError {
  override readonly name = 'GitHubApiError';
  constructor(
    /** What the action was doing, e.g. "create the plan comment on pull request #7". */
    readonly operation: string,
    /** HTTP status, 0 when no answer came back. */
    readonly status: number,
    /** GitHub's own message ("Bad credentials", "Resource not accessible by integration", …). */
    readonly apiMessage: string,
    /** Advice for the workflow author. */
    readonly hint: string,
    readonly fieldErrors: readonly ApiFieldError[] = [],
    readonly documentationUrl?: string,
  ) {
    const fields = fieldErrors
      .map((e) => e.message ?? [e.resource, e.field, e.code].filter(Boolean).join(' '))
      .filter(Boolean);
    super(
      `GitHub API: cannot ${operation}: ${status ? `${status} ` : ''}${apiMessage}` +
        (fields.length ? ` (${fields.join('; ')})` : '') +
        (hint ? `. ${hint}` : ''),
      {
        code: status ? String(status) : 'github-unreachable',
        advice: hint || `Re-run the job; if it fails again, read GitHub's message${documentationUrl ? ` and ${documentationUrl}` : ''}.`,
      },
    );
  }
}

export interface ErrorContext {
  /** The run is for a pull request from a fork (read-only token, no secrets). */
  readonly fromFork?: boolean;
  /** The permission the call needs, for the 403 advice, e.g. "pull-requests: write". */
  readonly permission?: string;
}

/** Turns whatever Octokit threw into a GitHubApiError; anything else is returned as is. */
export function explainGitHubError(err: unknown, operation: string, ctx: ErrorContext = {}): Error {
  if (err instanceof GitHubApiError) return err;
  if (!isHttpError(err)) return err instanceof Error ? err : new Error(String(err));
  const data = (err.response?.data ?? {}) as { message?: unknown; errors?: unknown; documentation_url?: unknown };
  const apiMessage = typeof data.message === 'string' ? data.message : err.message;
  const fieldErrors: ApiFieldError[] = Array.isArray(data.errors)
    ? data.errors.map((e): ApiFieldError => (typeof e === 'string' ? { message: e } : (e as ApiFieldError)))
    : [];
  const doc = typeof data.documentation_url === 'string' ? data.documentation_url : undefined;
  const remaining = err.response?.headers?.['x-ratelimit-remaining'];
  let hint: string;
  switch (err.status) {
    case 0:
      hint = 'GitHub could not be reached; check GITHUB_API_URL and the runner\'s network';
      break;
    case 401:
      hint =
        'GitHub rejected the token: the `github-token` input is missing, expired or not a token. ' +
        'Leave it at its default (`${{ github.token }}`) or pass a valid token';
      break;
    case 403:
      if (String(remaining) === '0' || /rate limit/i.test(apiMessage)) {
        hint = 'GitHub rate-limited the token; re-run the job later';
      } else if (ctx.fromFork) {
        hint =
          'This pull request comes from a fork: GitHub gives such runs a read-only token, so the action cannot ' +
          'write to the pull request. What the comment would have said is in the job summary of this run';
      } else {
        hint =
          `The token lacks a permission${ctx.permission ? `: give the job \`permissions: ${ctx.permission}\`` : ''}` +
          ' (and check Settings → Actions → General → Workflow permissions)';
      }
      break;
    case 404:
      hint = 'Not found: the repository, pull request or comment does not exist, or the token cannot see it';
      break;
    case 422:
      hint = 'GitHub refused the request as invalid';
      break;
    default:
      hint = err.status >= 500 ? 'GitHub had a server error; re-run the job' : '';
  }
  return new GitHubApiError(operation, err.status, apiMessage, hint, fieldErrors, doc);
}
