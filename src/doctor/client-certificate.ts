// Check: the certificate the relay presents to Exchange Online when it hands signed mail back.
// The relay reads <client-cert-dir>/<certificateDomain>.crt and .key (src/relay/delivery.ts) and,
// when either is missing, connects without one: Exchange then cannot match the inbound
// connector (TlsSenderCertificateName = certificateDomain) and does not attribute the mail to
// the tenant. So: both files, a key that belongs to the certificate, a name covering
// certificateDomain, dates, and a chain Exchange can trust (a public CA).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { certificateNames, chainsTo, expiryProblems, isSelfSigned, isoDay, oneLine, parseCertificates, trustAnchors } from './certificates.ts';
import type { Outcome, Problem } from './types.ts';

export interface ClientCertificateCheckOptions {
  readonly dir: string;
  readonly certificateDomain: string;
  /** Extra trusted CA (PEM), besides the public roots Node ships. */
  readonly ca?: string;
  readonly now?: Date;
}

export async function checkClientCertificate(options: ClientCertificateCheckOptions): Promise<Outcome> {
  const name = options.certificateDomain;
  const crtPath = join(options.dir, `${name}.crt`);
  const keyPath = join(options.dir, `${name}.key`);
  const placeHint = `The relay reads --client-cert-dir/<certificateDomain>.crt (certificate, then its intermediates, PEM) and .key (its unencrypted private key, PEM).`;
  if (/[/\\]|^\./.test(name)) {
    return {
      summary: '',
      problems: [
        {
          severity: 'error',
          code: 'client-certificate-bad-name',
          message: `certificateDomain ${name} cannot name a file in the client certificate directory`,
          advice: 'Set certificateDomain to a plain host name.',
        },
      ],
    };
  }
  const [crtText, keyText] = await Promise.all([readText(crtPath), readText(keyPath)]);
  const problems: Problem[] = [];
  const missing = [crtText, keyText].every((t) => typeof t !== 'string' && t.missing);
  if (missing) {
    problems.push({
      severity: 'error',
      code: 'client-certificate-missing',
      message: `no client certificate for ${name}: neither ${crtPath} nor ${keyPath} exists, so the relay connects to Exchange Online without one and Exchange cannot attribute the mail to the tenant`,
      advice: `Get a certificate for ${name} from a public CA and install it. ${placeHint}`,
    });
  } else {
    for (const [path, text, what] of [
      [crtPath, crtText, 'certificate'],
      [keyPath, keyText, 'private key'],
    ] as const) {
      if (typeof text === 'string') continue;
      problems.push({
        severity: 'error',
        code: text.missing ? 'client-certificate-missing' : 'client-certificate-unreadable',
        message: text.missing
          ? `no client ${what} for ${name}: ${path} does not exist, so the relay connects to Exchange Online without a certificate`
          : `cannot read the client ${what} ${path}: ${text.error}`,
        advice: `Install the ${what} for ${name} next to its ${what === 'certificate' ? 'key' : 'certificate'}. ${placeHint}`,
      });
    }
  }
  if (typeof crtText !== 'string' || typeof keyText !== 'string') return { summary: '', problems };

  let chain: X509Certificate[];
  try {
    chain = parseCertificates(crtText);
  } catch (err) {
    chain = [];
    problems.push(unreadable(crtPath, (err as Error).message, placeHint));
  }
  const leaf = chain[0];
  if (!leaf) {
    if (problems.length === 0) problems.push(unreadable(crtPath, 'it holds no PEM certificate', placeHint));
    return { summary: '', problems };
  }

  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    const encrypted = /passphrase|encrypted|bad decrypt/i.test((err as Error).message) || /ENCRYPTED/.test(keyText);
    problems.push({
      severity: 'error',
      code: encrypted ? 'client-key-encrypted' : 'client-key-unreadable',
      message: encrypted ? `the client key ${keyPath} is encrypted: the relay cannot use it` : `cannot read the client key ${keyPath}: ${(err as Error).message}`,
      advice: encrypted
        ? `Store the key unencrypted and readable only by the relay: openssl pkey -in ${keyPath} -out ${name}.key`
        : placeHint,
    });
  }
  if (key && !leaf.checkPrivateKey(key)) {
    problems.push({
      severity: 'error',
      code: 'client-key-mismatch',
      message: `the private key ${keyPath} does not belong to the certificate ${crtPath} (subject ${oneLine(leaf.subject)})`,
      advice: `Put the key the certificate for ${name} was issued for next to it (openssl x509 -noout -pubkey -in ${name}.crt and openssl pkey -pubout -in ${name}.key must print the same key).`,
    });
  }

  if (leaf.checkHost(name) === undefined) {
    problems.push({
      severity: 'error',
      code: 'client-certificate-name-mismatch',
      message: `the client certificate ${crtPath} is for ${certificateNames(leaf)}, not ${name}: Exchange Online matches the inbound connector by this name (TlsSenderCertificateName)`,
      advice: `Get a certificate whose subject alternative names include ${name} (or a wildcard covering it).`,
    });
  }

  const now = options.now ?? new Date();
  problems.push(
    ...expiryProblems(`the client certificate for ${name}`, new Date(leaf.validFrom), new Date(leaf.validTo), now, `Renew the certificate for ${name} and replace ${crtPath} and ${keyPath}; the relay uses the new files for new connections.`),
  );

  const anchor = chainsTo(leaf, chain.slice(1), trustAnchors(options.ca));
  if (!anchor) {
    problems.push(
      isSelfSigned(leaf)
        ? {
            severity: 'warning',
            code: 'client-certificate-self-signed',
            message: `the client certificate for ${name} is self-signed: Exchange Online does not trust it`,
            advice: `Use a certificate for ${name} from a public CA.`,
          }
        : {
            severity: 'warning',
            code: 'client-certificate-untrusted',
            message: `the client certificate for ${name} (issuer ${oneLine(leaf.issuer)}) does not chain to a trusted root with the intermediates in ${crtPath}`,
            advice: `Use a certificate from a public CA and append its intermediate certificates to ${crtPath}, after the certificate itself.`,
          },
    );
  }
  return {
    summary: `${crtPath}: ${certificateNames(leaf)}, valid until ${isoDay(new Date(leaf.validTo))}, key matches${anchor ? `, chains to ${anchor}` : ''}`,
    problems,
  };
}

function unreadable(path: string, reason: string, hint: string): Problem {
  return { severity: 'error', code: 'client-certificate-unreadable', message: `cannot read the client certificate ${path}: ${reason}`, advice: hint };
}

async function readText(path: string): Promise<string | { missing: boolean; error: string }> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { missing: e.code === 'ENOENT', error: e.message };
  }
}
