// Errors of `sigops directory sync`: Graph's error answers (or Graph out of reach), a missing
// Graph permission, and refusals before Graph is asked at all.
import { isBusyStatus } from '../entra/index.ts';
import { SigopsError, type RequestReference } from '../errors/index.ts';

export const GRAPH_PERMISSION_ADVICE =
  'The app registration (SIGOPS_CLIENT_ID) needs the Microsoft Graph application permissions User.Read.All and ' +
  'GroupMember.Read.All, with admin consent granted in this tenant (Entra admin center > App registrations > API permissions).';

export const MAILBOX_PERMISSION_ADVICE =
  'Including shared, room or equipment mailboxes (directory.mailboxes) needs the Microsoft Graph application permission ' +
  'MailboxSettings.Read as well, with admin consent granted in this tenant; or remove directory.mailboxes from the tenant file.';

/** An answer of Graph that is an error, or Graph out of reach. */
export class GraphError extends SigopsError {
  override readonly name: string = 'GraphError';
  readonly status: number; // 0: no answer
  readonly url: string;
  /** `code`: Graph's error code (e.g. Authorization_RequestDenied), else the HTTP status, or 'network' / 'nextLink'. */
  constructor(fields: { status: number; code: string; message: string; url: string; advice?: string; request?: RequestReference }) {
    super(fields.message, { code: fields.code, advice: fields.advice ?? adviceFor(fields.status), ...(fields.request ? { request: fields.request } : {}) });
    this.status = fields.status;
    this.url = fields.url;
  }
}

/** 401/403: the app may not read users or groups. */
export class GraphPermissionError extends GraphError {
  override readonly name = 'GraphPermissionError';
}

function adviceFor(status: number): string {
  if (status === 401 || status === 403) return GRAPH_PERMISSION_ADVICE;
  if (isBusyStatus(status)) return 'Microsoft Graph is throttling or busy: run the sync again later.';
  if (status === 0) return 'Check the network path to Microsoft Graph (SIGOPS_GRAPH_URL, proxy, firewall).';
  return 'See the Graph error above; run the sync again once it is fixed.';
}

/** What to do about a refused sync, by code, when the refusal gives no advice of its own. */
const SYNC_ADVICE: Readonly<Record<string, string>> = {
  'unknown-tenant': 'Use the slug of one of the tenants listed (the name of its tenants/<slug>.yaml file).',
  'invalid-snapshot':
    'What Graph returned breaks a rule of the config (see the errors above): fix the users in Entra ID or the config, then sync again.',
};

/** Refused before talking to Graph (unknown tenant, a `file` tenant, an invalid config), or a snapshot that does not validate. */
export class DirectorySyncError extends SigopsError {
  override readonly name = 'DirectorySyncError';
  constructor(code: string, message: string, advice: string = SYNC_ADVICE[code] ?? 'Fix the problem above, then run the sync again.') {
    super(message, { code, advice });
  }
}
