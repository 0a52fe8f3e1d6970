// Errors of the Sent Items update: a Graph mailbox call that failed, typed by what the worker
// does about it (wait and retry, or give the job up).
import { SigopsError, type RequestReference } from '../errors/index.ts';

/** A Microsoft Graph mailbox call failed (status 0: no answer at all). */
export class MailboxError extends SigopsError {
  override readonly name = 'MailboxError';
  readonly status: number;
  /** Graph's error code (ErrorAccessDenied, ErrorItemNotFound, …) or the status as text. */
  readonly graphCode: string;
  /** Retry-After of a throttled answer, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(fields: { status: number; graphCode: string; message: string; retryAfterMs?: number; request?: RequestReference; advice?: string }) {
    super(fields.message, {
      code: fields.graphCode,
      advice: fields.advice ?? adviceFor(fields.status),
      ...(fields.request ? { request: fields.request } : {}),
    });
    this.status = fields.status;
    this.graphCode = fields.graphCode;
    this.retryAfterMs = fields.retryAfterMs;
  }

  /** Busy, throttled, unreachable or a server error: worth another attempt later. */
  get temporary(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500 || this.status === 401;
  }
}

function adviceFor(status: number): string {
  if (status === 403) {
    return 'The app may not open this mailbox: grant it the "Application Mail.ReadWrite" role over a management scope that holds the sender (docs/sent-items.md), or leave the sender out of sentItems.';
  }
  if (status === 401) return 'Microsoft Graph refused the token: check SIGOPS_CLIENT_ID, the credential and admin consent (docs/sent-items.md).';
  if (status === 404) return 'The mailbox or the message is gone: nothing to update.';
  return 'Microsoft Graph did not do what was asked; the job is retried until its time is up (docs/sent-items.md).';
}
