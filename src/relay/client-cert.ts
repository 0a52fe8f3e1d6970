// Who is on the other end of a session: Exchange Online presents a TLS client certificate when it
// connects to a smart host (named mail.protection.outlook.com), which no other tenant's mail
// server and no stranger can present. With --require-client-cert the relay asks for it on
// STARTTLS, verifies its chain against the trust store and its name, and refuses a session
// without it before MAIL FROM is accepted.
import * as tls from 'node:tls';
import { RelayError } from './errors.ts';

/** `--require-client-cert NAME` and the CAs its certificate must chain to. */
export interface ClientCertificatePolicy {
  /** The DNS name the certificate must be for (subjectAltName, or CN without one; RFC 6125 wildcards). */
  readonly name: string;
  /** Trusted CA certificates (PEM). */
  readonly ca: readonly (string | Buffer)[];
}

/**
 * The trust store for client certificates: Node's (Mozilla's list; also NODE_EXTRA_CA_CERTS and
 * the operating system's where Node offers them, Node 22.15 and later) plus `extra` (PEM, e.g.
 * `--client-ca` for a private or test CA).
 */
export function clientTrust(extra?: Buffer | string): string[] {
  const getCa = (tls as { getCACertificates?: (type?: string) => string[] }).getCACertificates;
  const base = typeof getCa === 'function' ? getCa('default') : [...tls.rootCertificates];
  return extra ? [...base, extra.toString()] : base;
}

/** What the session's client certificate proved, decided once on STARTTLS. */
export type ClientCertificateVerdict =
  | { readonly ok: true; readonly subject: string }
  | { readonly ok: false; readonly error: RelayError; readonly subject?: string; readonly issuer?: string };

/** The smallest part of a peer certificate this check reads (tls.PeerCertificate has it). */
export interface PresentedCertificate {
  readonly subject?: { readonly CN?: string | string[] };
  readonly issuer?: { readonly CN?: string | string[] };
  readonly subjectaltname?: string;
  readonly raw?: Buffer;
}

const printable = (s: string | string[] | undefined): string => String(Array.isArray(s) ? s[0] : (s ?? '')).replace(/[^\x20-\x7e]/g, '?').slice(0, 100);

/**
 * Judges the certificate a client presented: present, verified by the TLS layer against the trust
 * store (`authorizationError` is OpenSSL's verdict: expired, unknown issuer …), and for `name`.
 * The refusal is temporary (451 4.7.1) on purpose: Exchange Online always presents its certificate,
 * so a refusal of Exchange means its certificate or chain changed or the name is set wrong here,
 * and a 4xx keeps its mail queued for a day while that is fixed. A stranger gets no further with a
 * 4xx than with a 5xx: it is refused every time.
 */
export function judgeClientCertificate(
  policy: ClientCertificatePolicy,
  peer: PresentedCertificate | undefined,
  authorizationError: string | Error | null | undefined,
): ClientCertificateVerdict {
  const want = policy.name;
  if (!peer || !peer.raw || peer.raw.length === 0) {
    return { ok: false, error: new RelayError(451, '4.7.1', `Client certificate required: this relay accepts mail only from ${want}, and no certificate was presented`, 'client-cert-missing') };
  }
  const subject = printable(peer.subject?.CN);
  const issuer = printable(peer.issuer?.CN);
  if (authorizationError) {
    const why = printable(typeof authorizationError === 'string' ? authorizationError : ((authorizationError as { code?: string }).code ?? authorizationError.message));
    return {
      ok: false,
      subject,
      issuer,
      error: new RelayError(451, '4.7.1', `Client certificate not trusted (${why}): this relay accepts mail only from ${want}`, 'client-cert-untrusted'),
    };
  }
  // the rules a TLS client applies to a server's name: DNS subjectAltNames (CN only without them),
  // a wildcard for exactly the left-most label
  const mismatch = tls.checkServerIdentity(want, { subject: peer.subject ?? {}, subjectaltname: peer.subjectaltname } as tls.PeerCertificate);
  if (mismatch) {
    return {
      ok: false,
      subject,
      issuer,
      error: new RelayError(451, '4.7.1', `Client certificate is for ${subject || 'another name'}, not ${want}: this relay accepts mail only from ${want}`, 'client-cert-name'),
    };
  }
  return { ok: true, subject };
}
