// Typed relay errors: each one carries the SMTP reply it must produce upstream, so the
// decision "what does Exchange see" is made where the failure is understood, not at the edge.
import { SigopsError } from '../errors/index.ts';

/** Why a message was refused or deferred; a metric label, never message content. */
export type RelayErrorReason =
  | 'not-tls'
  | 'source-not-allowed'
  | 'tenant-header-missing'
  | 'tenant-header-duplicated'
  | 'tenant-unknown'
  | 'sender-domain'
  | 'loop'
  | 'too-many-recipients'
  | 'too-large'
  | 'shutting-down'
  | 'config-unavailable'
  | 'next-hop-unreachable'
  | 'next-hop-dropped'
  | 'next-hop-deferred'
  | 'next-hop-rejected'
  | 'recipients-rejected'
  | 'internal';

/** What the operator reading the relay's logs can do about each reason. */
const ADVICE: Record<RelayErrorReason, string> = {
  'not-tls': 'The sender did not use STARTTLS: make the Exchange Online outbound connector to this relay require TLS.',
  'source-not-allowed':
    'A connection came from outside the allow-list: if it is Exchange Online, add its range (--allow / --allow-file, or "exchange-online"); otherwise nothing to do.',
  'tenant-header-missing':
    'The message did not come through a tenant\'s outbound connector: check that the tenant\'s connector and transport rule (sigops apply) route mail here.',
  'tenant-header-duplicated':
    'The message carried several tenant ids: it did not come straight from one tenant\'s outbound connector; check what sits between Exchange Online and this relay.',
  'tenant-unknown':
    'A tenant that is not in the config repository sent mail: add its tenant file, or remove sigops\'s connector from that tenant.',
  'sender-domain':
    'The sender\'s domain is not listed in its tenant\'s file: add the domain to `domains:` if the tenant owns it.',
  loop: 'A mail loop: check the connectors and transport rules (`sigops plan`) so that mail this relay hands back to Exchange is not routed here again.',
  'too-many-recipients': 'The sender gets a temporary refusal and Exchange retries with fewer recipients; nothing to do unless it persists.',
  'too-large': 'The message is over the relay\'s size limit (above Exchange Online\'s own): the sender gets a bounce; nothing to do unless this repeats.',
  'shutting-down': 'The relay is stopping; Exchange retries the message on another relay or later. Nothing to do.',
  'config-unavailable': 'No configuration is loaded yet: check the config directory or repository the relay reads, and its log for errors.',
  'next-hop-unreachable': 'The next hop does not answer: check --deliver, the network and the next hop; Exchange retries the message.',
  'next-hop-dropped': 'The connection to the next hop broke or TLS failed: check its certificate and --deliver-ca; Exchange retries the message.',
  'next-hop-deferred': 'The next hop asked to try again later; Exchange retries the message. Check the next hop if it persists.',
  'next-hop-rejected': 'The next hop refused the message: its reply (in the text) says why; the sender gets a bounce.',
  'recipients-rejected': 'The next hop refused some recipients: its reply (in the text) says why.',
  internal: 'Something failed inside the relay: see the cause in this log entry; Exchange retries the message.',
};

/** `code` is the reason (also the metric label); the SMTP codes are what the sender sees. */
export class RelayError extends SigopsError {
  override readonly name = 'RelayError';
  /** Basic SMTP reply code (e.g. 550). */
  readonly smtpCode: number;
  /** RFC 3463 enhanced status code (e.g. '5.7.1'). */
  readonly enhanced: string;
  readonly reason: RelayErrorReason;
  /** Text after the codes; no message content, addresses and ids at most. */
  readonly text: string;

  constructor(smtpCode: number, enhanced: string, text: string, reason: RelayErrorReason, options?: { cause?: unknown }) {
    super(`${enhanced} ${text}`, { code: reason, advice: ADVICE[reason], ...(options?.cause !== undefined ? { cause: options.cause } : {}) });
    this.smtpCode = smtpCode;
    this.enhanced = enhanced;
    this.text = text;
    this.reason = reason;
  }

  /** smtp-server reads `responseCode` and sends `message` after it. */
  get responseCode(): number {
    return this.smtpCode;
  }

  get temporary(): boolean {
    return this.smtpCode >= 400 && this.smtpCode < 500;
  }
}

/** The shape of errors nodemailer hands back (code, responseCode, response, command). */
interface MailerErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  rejectedErrors?: MailerErrorLike[];
}

const ENHANCED_IN_REPLY = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

/** One line of the next hop's reply, safe to repeat upstream (printable ASCII, bounded). */
export function replyExcerpt(response: string | undefined): string {
  if (!response) return '';
  const first = response.split(/\r?\n/)[0] ?? '';
  return first.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/**
 * Maps a failed hand-off to the next hop onto the answer Exchange gets. Anything not a clear
 * permanent refusal from the next hop is temporary, so Exchange keeps the message and retries.
 */
export function deliveryError(err: unknown, destination: string): RelayError {
  if (err instanceof RelayError) return err;
  const e = (err ?? {}) as MailerErrorLike;
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 500 && code < 600) {
    const enhanced = ENHANCED_IN_REPLY.exec(e.response ?? '')?.[1] ?? '5.0.0';
    return new RelayError(code, enhanced, `Next hop ${destination} refused the message: ${replyExcerpt(e.response)}`, 'next-hop-rejected', { cause: err });
  }
  if (typeof code === 'number' && code >= 400 && code < 500) {
    return new RelayError(451, '4.4.0', `Next hop ${destination} deferred the message, try again later: ${replyExcerpt(e.response)}`, 'next-hop-deferred', { cause: err });
  }
  const msg = e.message ?? '';
  switch (e.code) {
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'EDNS':
    case 'ETIMEDOUT':
    case 'ETLS':
    case 'EPROTOCOL':
      if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|Greeting never received|Connection timeout/i.test(msg)) {
        return new RelayError(451, '4.4.1', `No answer from next hop ${destination}, try again later`, 'next-hop-unreachable', { cause: err });
      }
      if (e.code === 'ETIMEDOUT') {
        return new RelayError(451, '4.4.1', `Next hop ${destination} timed out, try again later`, 'next-hop-unreachable', { cause: err });
      }
      if (e.code === 'ETLS') {
        return new RelayError(451, '4.4.2', `TLS with next hop ${destination} failed, try again later`, 'next-hop-dropped', { cause: err });
      }
      return new RelayError(451, '4.4.2', `Connection to next hop ${destination} was lost, try again later`, 'next-hop-dropped', { cause: err });
    default:
      return new RelayError(451, '4.3.0', 'Local error while relaying, try again later', 'internal', { cause: err });
  }
}

/** Classifies the next hop's per-recipient refusals (RCPT TO) under the partial-failure policy. */
export function recipientFailure(rejected: readonly string[], errors: readonly MailerErrorLike[], destination: string): RelayError {
  const temporary = errors.some((e) => typeof e.responseCode !== 'number' || e.responseCode < 500);
  const list = rejected.slice(0, 5).join(', ') + (rejected.length > 5 ? ` and ${rejected.length - 5} more` : '');
  if (temporary) {
    const first = errors.find((e) => typeof e.responseCode !== 'number' || e.responseCode < 500);
    return new RelayError(451, '4.4.0', `Next hop ${destination} deferred recipient(s) ${list}: ${replyExcerpt(first?.response)}; try again later`, 'recipients-rejected');
  }
  const first = errors[0];
  const code = first?.responseCode ?? 550;
  const enhanced = ENHANCED_IN_REPLY.exec(first?.response ?? '')?.[1] ?? '5.1.0';
  return new RelayError(code, enhanced, `Next hop ${destination} refused recipient(s) ${list}: ${replyExcerpt(first?.response)}`, 'recipients-rejected');
}
