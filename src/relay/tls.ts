// TLS material for the listener: files when given, else a throw-away self-signed certificate
// (development only: Exchange's outbound connector with TlsSettings DomainValidation refuses it).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly selfSigned: boolean;
}

export async function loadTlsCredentials(certFile: string, keyFile: string): Promise<TlsCredentials> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key, selfSigned: false };
}

/** A P-256 self-signed certificate for `hostname`, made with the system's openssl. */
export async function generateSelfSigned(hostname: string, days = 365): Promise<TlsCredentials> {
  const dir = await mkdtemp(join(tmpdir(), 'sigops-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const cn = hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', String(days), '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1`,
    ]);
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { cert, key, selfSigned: true };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
