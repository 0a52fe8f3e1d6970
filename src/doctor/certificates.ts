// What the doctor says about an X.509 certificate wherever it found one (the smart host's, the
// relay's client certificate): its dates against now, and whether it chains to a trusted root.
// Exchange Online only trusts certificates of public CAs, so "trusted" means the public roots
// Node ships (tls.rootCertificates), plus any CA given with --ca (tests, private set-ups).
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { Problem } from './types.ts';

/** A certificate that expires within this many days is a warning. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** `what` names the certificate in messages, e.g. "the certificate of relay.example.net". */
export function expiryProblems(what: string, validFrom: Date, validTo: Date, now: Date, renew: string): Problem[] {
  if (now.getTime() < validFrom.getTime()) {
    return [
      {
        severity: 'error',
        code: 'certificate-not-yet-valid',
        message: `${what} is not valid before ${isoDay(validFrom)}`,
        advice: `Install a certificate that is valid now, or check the clock of the machine. ${renew}`,
      },
    ];
  }
  if (now.getTime() > validTo.getTime()) {
    return [
      {
        severity: 'error',
        code: 'certificate-expired',
        message: `${what} expired on ${isoDay(validTo)}`,
        advice: renew,
      },
    ];
  }
  const days = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  if (days < EXPIRY_WARNING_DAYS) {
    return [
      {
        severity: 'warning',
        code: 'certificate-expiring',
        message: `${what} expires in ${days} day${days === 1 ? '' : 's'} (${isoDay(validTo)})`,
        advice: renew,
      },
    ];
  }
  return [];
}

export function isoDay(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'an unreadable date' : d.toISOString().slice(0, 10);
}

/** Every certificate of a PEM text, in order (a leaf followed by its intermediates). */
export function parseCertificates(pem: string): X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));
}

let publicRoots: X509Certificate[] | undefined;

/** The trust anchors: the public roots Node ships plus extra CAs (PEM). */
export function trustAnchors(extraCaPem?: string): X509Certificate[] {
  publicRoots ??= rootCertificates.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return extraCaPem ? [...publicRoots, ...parseCertificates(extraCaPem)] : publicRoots;
}

export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/**
 * Whether `leaf` chains to one of `anchors` through `intermediates` (signatures checked, dates
 * are judged separately). Returns the anchor's subject when it does.
 */
export function chainsTo(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[]): string | undefined {
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const anchor = anchors.find((a) => signedBy(current, a));
    if (anchor) return oneLine(anchor.subject);
    const next = intermediates.find((c) => c.fingerprint256 !== current.fingerprint256 && signedBy(current, c));
    if (!next) return undefined;
    current = next;
  }
  return undefined;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** A distinguished name as Node prints it (one attribute a line) on one line. */
export function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** The names a certificate is for, as a person reads them. */
export function certificateNames(cert: X509Certificate): string {
  const sans = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  if (sans.length > 0) return sans.join(', ');
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? `CN=${cn}` : '(no name)';
}
