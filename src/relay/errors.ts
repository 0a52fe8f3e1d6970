// Typed relay errors: each one carries the SMTP reply it must produce upstream, so the
// decision "what does Exchange see" is made where the failure is understood, not at the edge.
// ANSWER_CLASSES is the one table of how a failed hand-off to the next hop is answered upstream:
// data, so docs/relay.md and the tests iterate the same rows.
import { SigopsError } from '../errors/index.ts';

/** Why a message was refused or deferred; a metric label, never message content. */
export type RelayErrorReason =
  | 'not-tls'
  | 'client-cert-missing'
  | 'client-cert-untrusted'
  | 'client-cert-name'
  | 'source-not-allowed'
  | 'tenant-header-missing'
  | 'tenant-header-duplicated'
  | 'tenant-unknown'
  | 'sender-domain'
  | 'loop'
  | 'too-many-recipients'
  | 'too-large'
  | 'malformed'
  | 'shutting-down'
  | 'config-unavailable'
  | 'next-hop-unreachable'
  | 'next-hop-dropped'
  | 'next-hop-no-tls'
  | 'next-hop-tls'
  | 'next-hop-setup'
  | 'next-hop-deferred'
  | 'next-hop-rejected'
  | 'recipients-rejected'
  | 'internal';

/** What the operator reading the relay's logs can do about each reason. */
const ADVICE: Record<RelayErrorReason, string> = {
  'not-tls': 'The sender did not use STARTTLS: make the Exchange Online outbound connector to this relay require TLS.',
  'client-cert-missing':
    'A client connected without a TLS client certificate while --require-client-cert is set: Exchange Online always presents one, so this is not Exchange Online (nothing to do), or a TLS-inspecting device sits in between.',
  'client-cert-untrusted':
    'A client certificate did not verify (expired, or not from a CA in the trust store): if the client is Exchange Online, its certificate chain changed; update the system CA store (or --client-ca) and Exchange retries the queued mail.',
  'client-cert-name':
    'A trusted client certificate has another name than --require-client-cert: if the client is Exchange Online, check the name it presents (the log has it) and correct --require-client-cert; Exchange retries the queued mail.',
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
  malformed:
    'The message broke SMTP\'s rules on content (a NUL byte): nothing was delivered and the sender gets a bounce. Exchange Online never sends such mail; check what sits between it and this relay.',
  'shutting-down': 'The relay is stopping; Exchange retries the message on another relay or later. Nothing to do.',
  'config-unavailable': 'No configuration is loaded yet: check the config directory or repository the relay reads, and its log for errors.',
  'next-hop-unreachable': 'The next hop does not answer: check --deliver, the network and the next hop; Exchange retries the message.',
  'next-hop-dropped': 'The connection to the next hop broke or TLS failed: check its certificate and --deliver-ca; Exchange retries the message.',
  'next-hop-no-tls':
    'The next hop does not offer or refused STARTTLS, and the relay never sends mail in clear: check that --deliver / deliverTo points at the tenant\'s Exchange Online MX; Exchange keeps retrying the message meanwhile.',
  'next-hop-tls':
    'TLS with the next hop failed (handshake, untrusted certificate or a certificate for another name): check the deliverTo host name and --deliver-ca; Exchange keeps retrying the message meanwhile.',
  'next-hop-setup':
    'The next hop refused the session before judging the message (greeting, EHLO, MAIL FROM or DATA): usually a set-up problem such as the tenant\'s inbound connector or the client certificate (sigops doctor); Exchange keeps retrying the message for up to a day.',
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
export interface MailerErrorLike {
  code?: string;
  /** The system error beneath nodemailer's code (ECONNREFUSED under ESOCKET …). */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  rejected?: string[];
  rejectedErrors?: MailerErrorLike[];
}

const ENHANCED_IN_REPLY = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

/** One line of the next hop's reply, safe to repeat upstream (printable ASCII, bounded). */
export function replyExcerpt(response: string | undefined): string {
  if (!response) return '';
  const first = response.split(/\r?\n/)[0] ?? '';
  return first.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** Where in the hand-off the next hop failed: the step nodemailer was at. */
export type HandOffStage = 'connection' | 'greeting' | 'ehlo' | 'starttls' | 'mail-from' | 'rcpt-to' | 'data' | 'end-of-data' | 'unknown';

/** A failed hand-off, read from nodemailer's error: the step, and the next hop's reply if it gave one. */
export interface HandOffFailure {
  readonly stage: HandOffStage;
  /** The next hop's reply code (e.g. 554), when it answered. */
  readonly reply?: number;
  /** Its reply, for the text upstream (excerpt only). */
  readonly response: string;
  /** nodemailer's and the system's codes (ESOCKET, ECONNREFUSED, ETLS …). */
  readonly codes: readonly string[];
  /** nodemailer's message (a TLS or socket error's own text). */
  readonly detail: string;
  /** The recipients the next hop refused (RCPT TO), with their replies. */
  readonly rejected: readonly string[];
  readonly rejectedErrors: readonly MailerErrorLike[];
}

/** nodemailer's `command` of a failure, as a stage. CONN is the socket at any time, so it is read with the message. */
function stageOf(e: MailerErrorLike): HandOffStage {
  const msg = e.message ?? '';
  switch ((e.command ?? '').toUpperCase()) {
    case 'CONN':
      return /Invalid greeting/i.test(msg) ? 'greeting' : 'connection';
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return 'ehlo';
    case 'STARTTLS':
      return 'starttls';
    case 'MAIL FROM':
      return 'mail-from';
    case 'RCPT TO':
      return 'rcpt-to';
    case 'DATA':
      // the reply to the DATA command is EENVELOPE, the reply to the message's final dot EMESSAGE
      return e.code === 'EMESSAGE' ? 'end-of-data' : 'data';
    case '':
      // no step recorded: the kind of error still tells a refused message and a dead socket
      if (e.code === 'EMESSAGE') return 'end-of-data';
      if (e.code && ['ECONNECTION', 'ESOCKET', 'EDNS', 'ETIMEDOUT', 'ETLS'].includes(e.code)) return 'connection';
      return 'unknown';
    default:
      return 'unknown';
  }
}

export function handOffFailure(err: unknown): HandOffFailure {
  const e = (err ?? {}) as MailerErrorLike;
  const reply = typeof e.responseCode === 'number' && e.responseCode >= 200 && e.responseCode < 600 ? e.responseCode : undefined;
  return {
    stage: stageOf(e),
    reply,
    response: e.response ?? '',
    codes: [e.code, e.originalCode].filter((c): c is string => typeof c === 'string'),
    detail: e.message ?? (err instanceof Error ? err.message : String(err ?? '')),
    rejected: e.rejected ?? [],
    rejectedErrors: e.rejectedErrors ?? [],
  };
}

const permanent = (f: HandOffFailure) => f.reply !== undefined && f.reply >= 500;
const temporary = (f: HandOffFailure) => f.reply !== undefined && f.reply >= 400 && f.reply < 500;
const has = (f: HandOffFailure, code: string) => f.codes.includes(code);
const UNREACHABLE = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/;

/** What Exchange Online sees for one kind of failed hand-off. */
export interface AnswerClass {
  /** Stable name of the row (tests key their scenario by it). */
  readonly id: string;
  /** The step of the hand-off, for the table. */
  readonly step: string;
  /** What the next hop does, in an admin's words. */
  readonly nextHop: string;
  /** The answer upstream, as the table shows it. */
  readonly answer: string;
  /** The reply code and enhanced code sent upstream; `passed` = the next hop's own (a verdict on the message or recipient). */
  readonly reply: { readonly code: number; readonly enhanced: string } | 'passed';
  readonly reason: RelayErrorReason;
  matches(f: HandOffFailure): boolean;
  error(f: HandOffFailure, destination: string, cause: unknown): RelayError;
}

/** The next hop's answer before the message was judged: a session or set-up problem, kept and retried. */
function setupRefusal(step: string) {
  return (f: HandOffFailure, d: string, cause: unknown) =>
    new RelayError(451, '4.3.5', `Next hop ${d} refused ${step} (${replyExcerpt(f.response)}): a set-up problem, not a verdict on this message; try again later`, 'next-hop-setup', { cause });
}

/** TLS and certificate failures as the socket reports them (OpenSSL's and Node's codes). */
const TLS_FAILURE = /^(ERR_SSL_|ERR_TLS_)|CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH/;

function tlsProblem(f: HandOffFailure): string {
  // the TLS library's own words ("self-signed certificate", "Hostname/IP does not match
  // certificate's altnames: …"); of an OpenSSL error line only its reason ("wrong version number")
  const said = /Error initiating TLS - (.*)/.exec(f.detail)?.[1] ?? f.detail;
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(said)?.[1] ?? said;
  const code = f.codes.find((c) => TLS_FAILURE.test(c));
  return `${reason.trim()}${code ? ` (${code})` : ''}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
}

/**
 * Every way a hand-off can fail, in the order they are tried; the first that matches answers.
 * Only the next hop's 5xx to a recipient (RCPT TO) or to the message itself (end of DATA) is a
 * verdict and goes back as 5xx. Anything before that (the greeting, EHLO, STARTTLS, TLS,
 * MAIL FROM, the DATA command) is a problem of the session or of the set-up, not of the message:
 * it is answered 451 so that Exchange keeps the message and retries for up to a day while the
 * admin fixes it. Whatever is not classified is answered 451 too.
 */
export const ANSWER_CLASSES: readonly AnswerClass[] = [
  {
    id: 'unreachable',
    step: 'connect',
    nextHop: 'refuses the connection, or its name or address cannot be reached',
    answer: '`451 4.4.1 No answer from next hop …`',
    reply: { code: 451, enhanced: '4.4.1' },
    reason: 'next-hop-unreachable',
    matches: (f) => f.stage === 'connection' && f.reply === undefined && (has(f, 'EDNS') || UNREACHABLE.test(`${f.codes.join(' ')} ${f.detail}`)),
    error: (_f, d, cause) => new RelayError(451, '4.4.1', `No answer from next hop ${d}, try again later`, 'next-hop-unreachable', { cause }),
  },
  {
    id: 'no-greeting',
    step: 'connect',
    nextHop: 'accepts the connection but never greets (connect or greeting timeout, `--deliver-timeout`)',
    answer: '`451 4.4.1 No answer from next hop …`',
    reply: { code: 451, enhanced: '4.4.1' },
    reason: 'next-hop-unreachable',
    matches: (f) => f.stage === 'connection' && f.reply === undefined && /Greeting never received|Connection timeout/i.test(f.detail),
    error: (_f, d, cause) => new RelayError(451, '4.4.1', `No answer from next hop ${d}, try again later`, 'next-hop-unreachable', { cause }),
  },
  {
    id: 'greeting-refused',
    step: 'greeting',
    nextHop: 'greets with 5xx (e.g. `554`: it takes no mail from this relay)',
    answer: '`451 4.3.5 Next hop … refused the session at its greeting …`',
    reply: { code: 451, enhanced: '4.3.5' },
    reason: 'next-hop-setup',
    matches: (f) => f.stage === 'greeting' && permanent(f),
    error: setupRefusal('the session at its greeting'),
  },
  {
    id: 'ehlo-refused',
    step: 'EHLO',
    nextHop: 'answers EHLO with 5xx',
    answer: '`451 4.3.5 Next hop … refused EHLO …`',
    reply: { code: 451, enhanced: '4.3.5' },
    reason: 'next-hop-setup',
    matches: (f) => f.stage === 'ehlo' && permanent(f),
    error: setupRefusal('EHLO'),
  },
  {
    id: 'starttls-not-offered',
    step: 'STARTTLS',
    nextHop: 'does not offer STARTTLS (answers it `500`/`502`/`504`: command unknown)',
    answer: '`451 4.7.4 TLS is required, but next hop … does not offer STARTTLS …`',
    reply: { code: 451, enhanced: '4.7.4' },
    reason: 'next-hop-no-tls',
    matches: (f) => f.stage === 'starttls' && (f.reply === 500 || f.reply === 502 || f.reply === 504),
    error: (f, d, cause) =>
      new RelayError(451, '4.7.4', `TLS is required, but next hop ${d} does not offer STARTTLS (${replyExcerpt(f.response)}); mail is never sent in clear, try again later`, 'next-hop-no-tls', { cause }),
  },
  {
    id: 'starttls-refused',
    step: 'STARTTLS',
    nextHop: 'answers STARTTLS with another 4xx or 5xx (e.g. `454`, `554`)',
    answer: '`451 4.7.4 TLS is required, but next hop … refused STARTTLS …`',
    reply: { code: 451, enhanced: '4.7.4' },
    reason: 'next-hop-no-tls',
    matches: (f) => f.stage === 'starttls' && f.reply !== undefined && f.reply >= 400,
    error: (f, d, cause) =>
      new RelayError(451, '4.7.4', `TLS is required, but next hop ${d} refused STARTTLS (${replyExcerpt(f.response)}); mail is never sent in clear, try again later`, 'next-hop-no-tls', { cause }),
  },
  {
    id: 'tls-failed',
    step: 'TLS',
    nextHop: 'the TLS handshake fails, or its certificate is not trusted, expired or for another name',
    answer: '`451 4.7.5 TLS with next hop … failed: <reason> …`',
    reply: { code: 451, enhanced: '4.7.5' },
    reason: 'next-hop-tls',
    matches: (f) => f.reply === undefined && (has(f, 'ETLS') || f.codes.some((c) => TLS_FAILURE.test(c))),
    error: (f, d, cause) => new RelayError(451, '4.7.5', `TLS with next hop ${d} failed: ${tlsProblem(f)}; try again later`, 'next-hop-tls', { cause }),
  },
  {
    id: 'tenant-attribution',
    step: 'any',
    nextHop: 'Exchange Online answers `5.7.64 TenantAttribution; Relay Access Denied` (no inbound connector matches this relay\'s certificate), at any step, for any recipient',
    answer: '`451 4.3.5 Next hop … does not attribute this relay to the tenant …`',
    reply: { code: 451, enhanced: '4.3.5' },
    reason: 'next-hop-setup',
    matches: (f) => [f.response, ...f.rejectedErrors.map((e) => e.response)].some((r) => /^5\d\d[ -]5\.7\.64\b/.test(r ?? '')),
    error: (f, d, cause) => {
      const reply = [f.response, ...f.rejectedErrors.map((e) => e.response)].find((r) => /^5\d\d[ -]5\.7\.64\b/.test(r ?? ''));
      return new RelayError(
        451,
        '4.3.5',
        `Next hop ${d} does not attribute this relay to the tenant (${replyExcerpt(reply)}): check the tenant's inbound connector and the relay's client certificate (sigops doctor); try again later`,
        'next-hop-setup',
        { cause },
      );
    },
  },
  {
    id: 'mail-from-refused',
    step: 'MAIL FROM',
    nextHop: 'answers MAIL FROM with 5xx (e.g. its inbound connector does not recognise this relay yet)',
    answer: '`451 4.3.5 Next hop … refused the sender (MAIL FROM) …`',
    reply: { code: 451, enhanced: '4.3.5' },
    reason: 'next-hop-setup',
    matches: (f) => f.stage === 'mail-from' && permanent(f),
    error: setupRefusal('the sender (MAIL FROM)'),
  },
  {
    id: 'rcpt-refused',
    step: 'RCPT TO',
    nextHop: 'answers RCPT TO with 5xx for some or all recipients (and 4xx for none)',
    answer: 'that recipient\'s 5xx, code and enhanced code kept, naming the refused addresses: `550 5.1.1 Next hop … refused recipient(s) …`',
    reply: 'passed',
    reason: 'recipients-rejected',
    matches: (f) => f.stage === 'rcpt-to' && recipientVerdict(f) === 'refused',
    error: (f, d) => recipientFailure(f.rejected, f.rejectedErrors, d),
  },
  {
    id: 'rcpt-deferred',
    step: 'RCPT TO',
    nextHop: 'answers RCPT TO with 4xx for any recipient',
    answer: '`451 4.4.0 Next hop … deferred recipient(s) …` for the whole message (a duplicate is preferred over a loss)',
    reply: { code: 451, enhanced: '4.4.0' },
    reason: 'recipients-rejected',
    matches: (f) => f.stage === 'rcpt-to' && recipientVerdict(f) === 'deferred',
    error: (f, d) => recipientFailure(f.rejected, f.rejectedErrors, d),
  },
  {
    id: 'data-refused',
    step: 'DATA',
    nextHop: 'answers the DATA command with 5xx',
    answer: '`451 4.3.5 Next hop … refused the DATA command …`',
    reply: { code: 451, enhanced: '4.3.5' },
    reason: 'next-hop-setup',
    matches: (f) => f.stage === 'data' && permanent(f),
    error: setupRefusal('the DATA command'),
  },
  {
    id: 'message-refused',
    step: 'end of DATA',
    nextHop: 'answers the end of the message with 5xx',
    answer: 'the same 5xx, enhanced code kept: `554 5.6.0 Next hop … refused the message: <its reply>`',
    reply: 'passed',
    reason: 'next-hop-rejected',
    matches: (f) => f.stage === 'end-of-data' && permanent(f),
    error: (f, d, cause) =>
      new RelayError(f.reply!, ENHANCED_IN_REPLY.exec(f.response)?.[1] ?? '5.0.0', `Next hop ${d} refused the message: ${replyExcerpt(f.response)}`, 'next-hop-rejected', { cause }),
  },
  {
    id: 'deferred',
    step: 'any',
    nextHop: 'answers 4xx at any other step (`421` greeting, `451` to MAIL FROM or to the end of DATA …)',
    answer: '`451 4.4.0 Next hop … deferred the message, try again later: <its reply>`',
    reply: { code: 451, enhanced: '4.4.0' },
    reason: 'next-hop-deferred',
    matches: (f) => temporary(f),
    error: (f, d, cause) => new RelayError(451, '4.4.0', `Next hop ${d} deferred the message, try again later: ${replyExcerpt(f.response)}`, 'next-hop-deferred', { cause }),
  },
  {
    id: 'timeout',
    step: 'any',
    nextHop: 'stops answering in the middle of the session (idle timeout, e.g. no answer to the end of DATA)',
    answer: '`451 4.4.1 Next hop … timed out …`',
    reply: { code: 451, enhanced: '4.4.1' },
    reason: 'next-hop-unreachable',
    matches: (f) => f.stage === 'connection' && has(f, 'ETIMEDOUT'),
    error: (_f, d, cause) => new RelayError(451, '4.4.1', `Next hop ${d} timed out, try again later`, 'next-hop-unreachable', { cause }),
  },
  {
    id: 'dropped',
    step: 'any',
    nextHop: 'drops the connection (also in the middle of DATA)',
    answer: '`451 4.4.2 Connection to next hop … was lost …`',
    reply: { code: 451, enhanced: '4.4.2' },
    reason: 'next-hop-dropped',
    matches: (f) => f.stage === 'connection' && f.reply === undefined && ['ECONNECTION', 'ESOCKET'].some((c) => has(f, c)),
    error: (_f, d, cause) => new RelayError(451, '4.4.2', `Connection to next hop ${d} was lost, try again later`, 'next-hop-dropped', { cause }),
  },
  {
    id: 'unclassified',
    step: 'any',
    nextHop: 'anything else (a 5xx at a step not listed, a reply that is not SMTP, a failure inside the relay)',
    answer: '`451 4.3.0 Local error while relaying, try again later`',
    reply: { code: 451, enhanced: '4.3.0' },
    reason: 'internal',
    matches: () => true,
    error: (_f, _d, cause) => new RelayError(451, '4.3.0', 'Local error while relaying, try again later', 'internal', { cause }),
  },
];

/** The row of ANSWER_CLASSES that answers this failure. */
export function answerClassOf(err: unknown): AnswerClass {
  const f = handOffFailure(err);
  return ANSWER_CLASSES.find((c) => c.matches(f))!;
}

/**
 * Maps a failed hand-off to the next hop onto the answer Exchange gets (ANSWER_CLASSES). Anything
 * that is not the next hop's verdict on a recipient or on the message is temporary, so Exchange
 * keeps the message and retries.
 */
export function deliveryError(err: unknown, destination: string): RelayError {
  if (err instanceof RelayError) return err;
  const f = handOffFailure(err);
  return ANSWER_CLASSES.find((c) => c.matches(f))!.error(f, destination, err);
}

/** A recipient refusal is a verdict only when every refusal is permanent; any 4xx defers all. */
function recipientVerdict(f: HandOffFailure): 'refused' | 'deferred' | undefined {
  const errors = f.rejectedErrors.length > 0 ? f.rejectedErrors : f.reply !== undefined ? [{ responseCode: f.reply, response: f.response }] : [];
  if (errors.length === 0) return undefined;
  return errors.some((e) => typeof e.responseCode !== 'number' || e.responseCode < 500) ? 'deferred' : 'refused';
}

/** Some recipients refused while others were accepted: answered by the same table as any other failure. */
export function recipientsRefused(rejected: readonly string[], errors: readonly MailerErrorLike[], destination: string): RelayError {
  const first = errors.find((e) => typeof e.responseCode !== 'number' || e.responseCode < 500) ?? errors[0];
  return deliveryError({ code: 'EENVELOPE', command: 'RCPT TO', rejected: [...rejected], rejectedErrors: [...errors], responseCode: first?.responseCode, response: first?.response }, destination);
}

/** Classifies the next hop's per-recipient refusals (RCPT TO) under the partial-failure policy. */
export function recipientFailure(rejected: readonly string[], errors: readonly MailerErrorLike[], destination: string): RelayError {
  const all = errors.length > 0 ? errors : [{ responseCode: 550 }];
  const temporary = all.some((e) => typeof e.responseCode !== 'number' || e.responseCode < 500);
  const list = rejected.slice(0, 5).join(', ') + (rejected.length > 5 ? ` and ${rejected.length - 5} more` : '');
  if (temporary) {
    const first = all.find((e) => typeof e.responseCode !== 'number' || e.responseCode < 500);
    return new RelayError(451, '4.4.0', `Next hop ${destination} deferred recipient(s) ${list}: ${replyExcerpt(first?.response)}; try again later`, 'recipients-rejected');
  }
  const first = all[0];
  const code = first?.responseCode ?? 550;
  const enhanced = ENHANCED_IN_REPLY.exec(first?.response ?? '')?.[1] ?? '5.1.0';
  return new RelayError(code, enhanced, `Next hop ${destination} refused recipient(s) ${list}: ${replyExcerpt(first?.response)}`, 'recipients-rejected');
}

/** The answer table of docs/relay.md, from ANSWER_CLASSES (a test keeps the two the same). */
export function answerClassTable(): string {
  const rows = ANSWER_CLASSES.map((c) => `| ${c.step} | ${c.nextHop} | ${c.answer} | \`${c.reason}\` |`);
  return ['| step | next hop | answer upstream | metric reason |', '|---|---|---|---|', ...rows].join('\n');
}
