// One base for every error sigops raises on purpose. Each carries a stable `code` (for tools,
// metrics and tests) and `advice`: what the person who sees it should do next. The CLI and the
// GitHub Action print both, and never need to know which concept raised the error.

export interface ErrorDetails {
  /** Stable, machine-readable code: a short kebab-case name, or the service's own (AADSTS…, an ErrId, an HTTP status). */
  readonly code: string;
  /** What to do next, in one or two sentences. */
  readonly advice: string;
  readonly cause?: unknown;
  /** The failed call to a Microsoft service, when there was one: the ids its support asks for. */
  readonly request?: RequestReference;
}

/** The ids of one call to a Microsoft service: quote them to Microsoft support. */
export interface RequestReference {
  /** The `client-request-id` sigops sent. */
  readonly clientRequestId: string;
  /** The service's `request-id` answer header, when it sent one. */
  readonly requestId?: string;
}

export abstract class SigopsError extends Error {
  abstract override readonly name: string;
  readonly code: string;
  readonly advice: string;
  readonly request: RequestReference | undefined;

  constructor(message: string, details: ErrorDetails) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = details.code;
    this.advice = details.advice;
    this.request = details.request;
  }
}

/** What reports (plans, the Action's summary, the CLI) show of any thrown value. */
export interface ErrorSummary {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly advice?: string;
  readonly request?: RequestReference;
}

export function describeError(err: unknown): ErrorSummary {
  if (err instanceof SigopsError) {
    return { name: err.name, code: err.code, message: err.message, advice: err.advice, ...(err.request ? { request: err.request } : {}) };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** `client-request-id 1f0c…; request-id 7d2e…`: how every report names a failed call. */
export function formatRequestReference(r: RequestReference): string {
  return `client-request-id ${r.clientRequestId}${r.requestId ? `; request-id ${r.requestId}` : ''}`;
}

/**
 * How the CLI prints an error: `Name [code]: message` and, on the next line, `advice: …`.
 * A plain `Error` has no name worth printing. Takes the summary so errors recorded as data
 * (a tenant's plan, an apply step) print the same way as thrown ones.
 */
export function formatErrorSummary(d: ErrorSummary): string {
  const name = d.name === 'Error' ? '' : `${d.name}${d.code ? ` [${d.code}]` : ''}: `;
  const lines = [`${name}${d.message}`];
  if (d.advice) lines.push(`  advice: ${d.advice}`);
  if (d.request) lines.push(`  request: ${formatRequestReference(d.request)} (quote it to Microsoft support)`);
  return lines.join('\n');
}

/** `formatErrorSummary` of any thrown value. */
export function formatError(err: unknown): string {
  return formatErrorSummary(describeError(err));
}
