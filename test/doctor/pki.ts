// A throw-away certificate authority for the doctor's tests, made with openssl: a CA and leaf
// certificates for any names and dates (`openssl ca` takes explicit start and end dates, so
// an already expired certificate can be made too), and self-signed ones.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** DNS names (subjectAltName); default [commonName]. */
  readonly names?: readonly string[];
  /** Valid from now for this many days (default 90) … */
  readonly days?: number;
  /** … or between these dates. */
  readonly from?: Date;
  readonly until?: Date;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function opensslDate(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

export class TestCa {
  readonly cert: string;
  private serial = 1;

  private constructor(readonly dir: string) {
    this.cert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  }

  static create(name = 'sigops doctor test CA'): TestCa {
    const dir = TestCa.layout();
    execFileSync(
      'openssl',
      ['req', '-x509', ...EC, '-days', '3650', '-subj', `/CN=${name}`, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'),
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      { stdio: 'ignore' },
    );
    return new TestCa(dir);
  }

  /** An intermediate CA signed by this one (its certificate is what a server sends after its own). */
  intermediate(name: string): TestCa {
    const dir = TestCa.layout();
    const n = this.serial++;
    writeFileSync(join(dir, 'ca.ext'), ['[ sub ]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', ''].join('\n'));
    execFileSync('openssl', ['req', '-new', ...EC, '-subj', `/CN=${name}`, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.csr')], { stdio: 'ignore' });
    writeFileSync(join(this.dir, 'serial'), `${n.toString(16).padStart(4, '0')}\n`);
    execFileSync(
      'openssl',
      ['ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'), '-extfile', join(dir, 'ca.ext'), '-extensions', 'sub', '-days', '365', '-in', join(dir, 'ca.csr'), '-out', join(dir, 'ca.crt')],
      { stdio: 'ignore' },
    );
    const sub = new TestCa(dir);
    sub.serial = 1000;
    return sub;
  }

  private static layout(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sigops-pki-'));
    mkdirSync(join(dir, 'issued'));
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = test_ca',
        '[ test_ca ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/issued',
        'certificate = $dir/ca.crt',
        'private_key = $dir/ca.key',
        'serial = $dir/serial',
        'default_md = sha256',
        'policy = any_name',
        'unique_subject = no',
        'email_in_dn = no',
        '[ any_name ]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    return dir;
  }

  /** A leaf certificate for `commonName`, signed by this CA, for server and client use. */
  issue(commonName: string, options: IssueOptions = {}): IssuedCertificate {
    const n = this.serial++;
    const base = join(this.dir, `leaf-${n}`);
    const names = options.names ?? [commonName];
    writeFileSync(
      `${base}.ext`,
      ['[ leaf ]', 'basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth,clientAuth', `subjectAltName = ${names.map((d) => `DNS:${d}`).join(',')}`, ''].join('\n'),
    );
    execFileSync('openssl', ['req', '-new', ...EC, '-subj', `/CN=${commonName}`, '-keyout', `${base}.key`, '-out', `${base}.csr`], { stdio: 'ignore' });
    const dates = options.from || options.until
      ? ['-startdate', opensslDate(options.from ?? new Date(Date.now() - 86_400_000)), '-enddate', opensslDate(options.until ?? new Date(Date.now() + 90 * 86_400_000))]
      : ['-days', String(options.days ?? 90)];
    writeFileSync(join(this.dir, 'serial'), `${n.toString(16).padStart(4, '0')}\n`);
    execFileSync(
      'openssl',
      ['ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'), '-extfile', `${base}.ext`, '-extensions', 'leaf', ...dates, '-in', `${base}.csr`, '-out', `${base}.crt`],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A self-signed certificate for `names` (no CA vouches for it). */
export function selfSigned(names: readonly string[], days = 90): IssuedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-self-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', ...EC, '-days', String(days), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((d) => `DNS:${d}`).join(',')}`,
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
