// Checks: the tenant's smartHost as Exchange Online's outbound connector sees it. The connector
// (TlsSettings DomainValidation, TlsDomain = smartHost) looks the name up in public DNS,
// connects on port 25, requires STARTTLS and a certificate from a public CA valid for that
// name. Each address the name resolves to is probed, since Exchange may pick any of them.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { certificateNames, expiryProblems, isoDay, oneLine } from './certificates.ts';
import { probeSmtp, type ProbeTarget, type SmtpProbeOptions, type SmtpProbeResult } from './smtp-probe.ts';
import type { Outcome, Problem } from './types.ts';

/** `--connect-to HOST:PORT:ADDRESS:PORT` (as curl's): probe ADDRESS:PORT instead of HOST:PORT, without looking HOST up. */
export interface ConnectTo {
  /** Empty: any host. */
  readonly host: string;
  /** 0: any port. */
  readonly port: number;
  /** Empty: the same host. */
  readonly address: string;
  /** 0: the same port. */
  readonly toPort: number;
}

/** The lookups the DNS check needs (node:dns/promises Resolver has them). */
export interface HostResolver {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface SmartHostCheckOptions extends SmtpProbeOptions {
  /** Exchange Online delivers to the smart host on port 25. */
  readonly port?: number;
  readonly connectTo?: readonly ConnectTo[];
  readonly resolver?: HostResolver;
  readonly now?: Date;
}

export interface SmartHostOutcome {
  readonly dns: Outcome;
  readonly tls: Outcome;
}

/** At most this many addresses of one name are probed. */
const MAX_ADDRESSES = 8;

export async function checkSmartHost(host: string, options: SmartHostCheckOptions = {}): Promise<SmartHostOutcome> {
  const port = options.port ?? 25;
  const redirect = options.connectTo?.find((c) => (c.host === '' || c.host.toLowerCase() === host.toLowerCase()) && (c.port === 0 || c.port === port));
  let targets: ProbeTarget[];
  let dns: Outcome;
  if (redirect) {
    const address = redirect.address || host;
    const toPort = redirect.toPort || port;
    targets = [{ host, address, port: toPort }];
    dns = { summary: `not looked up: --connect-to sends the probe to ${address}:${toPort}`, problems: [], skipped: true };
  } else if (isIP(host)) {
    targets = [{ host, address: host, port }];
    dns = { summary: `${host} is an address, nothing to look up`, problems: [], skipped: true };
  } else {
    const resolved = await resolveHost(host, options.resolver ?? defaultResolver(options.timeoutMs));
    dns = resolved.outcome;
    targets = resolved.addresses.slice(0, MAX_ADDRESSES).map((address) => ({ host, address, port }));
  }
  if (targets.length === 0) {
    return { dns, tls: { summary: `not probed: ${host} does not resolve`, problems: [], skipped: true } };
  }
  const results = await Promise.all(targets.map((t) => probeSmtp(t, options)));
  const problems = results.flatMap((r) => probeProblems(r, options.now ?? new Date()));
  return { dns, tls: { summary: results.map(describeProbe).join('; '), problems } };
}

function defaultResolver(timeoutMs = 10_000): HostResolver {
  return new Resolver({ timeout: Math.max(1000, Math.floor(timeoutMs / 2)), tries: 2 });
}

async function resolveHost(host: string, resolver: HostResolver): Promise<{ addresses: string[]; outcome: Outcome }> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length > 0) return { addresses, outcome: { summary: `${host} resolves to ${addresses.join(', ')}`, problems: [] } };
  const codes = [v4, v6].map((r) => (r.status === 'rejected' ? String((r.reason as NodeJS.ErrnoException).code ?? 'error') : 'ENODATA'));
  const advice = `Publish A (and/or AAAA) records for ${host} pointing at the relay (or its load balancer) in public DNS: Exchange Online looks the smart host up there.`;
  let problem: Problem;
  if (codes.includes('ENOTFOUND')) {
    problem = { severity: 'error', code: 'dns-nxdomain', message: `${host} does not exist in DNS (NXDOMAIN)`, advice };
  } else if (codes.every((c) => c === 'ENODATA')) {
    problem = { severity: 'error', code: 'dns-no-address', message: `${host} has no A or AAAA record`, advice };
  } else {
    const failed = [...new Set(codes.filter((c) => c !== 'ENODATA'))].join(', ');
    problem = {
      severity: 'error',
      code: 'dns-failure',
      message: `looking up ${host} failed (${failed})`,
      advice: `Check that the zone's name servers answer (dig ${host} A), and that this machine can reach a DNS server. ${advice}`,
    };
  }
  return { addresses: [], outcome: { summary: '', problems: [problem] } };
}

const TLS_ADVICE = 'Give the relay a certificate for the smart host name from a public CA (sigops relay --tls-cert/--tls-key), with its intermediate certificates after it in the --tls-cert file.';

/** What is wrong with one address, as Exchange Online would find it. */
export function probeProblems(result: SmtpProbeResult, now: Date): Problem[] {
  const { host } = result.target;
  const at = `${host} (${result.target.address}:${result.target.port})`;
  const problems: Problem[] = [];
  const f = result.failure;
  if (f) {
    problems.push(failureProblem(at, f.stage, f.code, f.detail));
  }
  const tls = result.tls;
  if (!tls) return problems;
  const cert = tls.certificate;
  const names = cert ? certificateNames(cert) : '(none)';
  // Dates and the name have findings of their own (Node reports a wrong name as ERR_TLS_CERT_ALTNAME_INVALID).
  if (!tls.authorized && tls.authorizationError && !/^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/.test(tls.authorizationError)) {
    problems.push(trustProblem(at, tls.authorizationError, cert ? oneLine(cert.issuer) : 'unknown'));
  }
  if (tls.nameError) {
    problems.push({
      severity: 'error',
      code: 'certificate-name-mismatch',
      message: `${at} presents a certificate for ${names}, not ${host}: Exchange Online checks the name (TlsDomain) and will not deliver`,
      advice: `Install a certificate whose subject alternative names include ${host}. ${TLS_ADVICE}`,
    });
  }
  if (cert) {
    problems.push(...expiryProblems(`the certificate of ${at}`, new Date(cert.validFrom), new Date(cert.validTo), now, `Renew the relay's certificate for ${host} and restart or reload the relay with it (--tls-cert/--tls-key).`));
  }
  return problems;
}

function failureProblem(at: string, stage: string, code: string, detail: string): Problem {
  const reach = 'Exchange Online connects to the smart host on port 25 from its published IP ranges: run the relay there (sigops relay --listen 0.0.0.0:25) and open port 25 to those ranges.';
  switch (stage) {
    case 'connect':
      return { severity: 'error', code: code === 'refused' ? 'smtp-connection-refused' : code === 'timeout' ? 'smtp-connect-timeout' : 'smtp-connect-failed', message: `${at}: ${detail}`, advice: reach };
    case 'greeting':
    case 'ehlo':
      return {
        severity: 'error',
        code: code === 'timeout' ? 'smtp-no-greeting' : 'smtp-refused',
        message: `${at}: ${detail}`,
        advice: `Check that the sigops relay (not another service) listens there, and its logs. If the relay refuses this machine's address, that is expected (--allow); run the doctor from an allowed address. ${reach}`,
      };
    case 'starttls':
      return {
        severity: 'error',
        code: code === 'no-starttls' ? 'smtp-no-starttls' : 'smtp-starttls-refused',
        message: `${at}: ${detail}: the outbound connector requires TLS (TlsSettings DomainValidation) and will not deliver`,
        advice: `Run the relay with a certificate (--tls-cert/--tls-key) so that it offers STARTTLS, and check that no proxy in front of it strips STARTTLS. ${TLS_ADVICE}`,
      };
    case 'handshake': {
      const version = /unsupported protocol|wrong version number|no protocols available|protocol version/i.test(detail);
      return {
        severity: 'error',
        code: version ? 'tls-version' : 'tls-handshake',
        message: `${at}: ${detail}`,
        advice: version ? 'Offer TLS 1.2 or newer: Exchange Online does not use older versions.' : `Check the relay's certificate and key (--tls-cert/--tls-key). ${TLS_ADVICE}`,
      };
    }
    default:
      return { severity: 'error', code: 'smtp-after-tls', message: `${at}: ${detail}`, advice: "Check the relay's logs: it must accept EHLO again after STARTTLS." };
  }
}

function trustProblem(at: string, reason: string, issuer: string): Problem {
  const text: Record<string, string> = {
    DEPTH_ZERO_SELF_SIGNED_CERT: 'presents a self-signed certificate',
    SELF_SIGNED_CERT_IN_CHAIN: 'presents a certificate chain that ends in an untrusted root',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `presents a certificate whose issuer (${issuer}) is not a trusted CA, or whose intermediate certificates it does not send`,
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: `presents a certificate whose issuer (${issuer}) is not a trusted CA, or whose intermediate certificates it does not send`,
    UNABLE_TO_GET_ISSUER_CERT: `presents a certificate chain with a missing issuer (${issuer})`,
  };
  return {
    severity: 'error',
    code: 'certificate-untrusted',
    message: `${at} ${text[reason] ?? `presents a certificate that does not verify (${reason})`}: Exchange Online only trusts public CAs and will not deliver`,
    advice: TLS_ADVICE,
  };
}

function describeProbe(r: SmtpProbeResult): string {
  const at = `${r.target.address}:${r.target.port}`;
  if (!r.tls?.certificate) return `${at}: ${r.failure ? r.failure.detail : 'no certificate'}`;
  const c = r.tls.certificate;
  return `${at}: STARTTLS, ${r.tls.protocol ?? 'TLS'}, certificate for ${certificateNames(c)} from ${oneLine(c.issuer)}, valid until ${isoDay(new Date(c.validTo))}`;
}

/** Parses `HOST:PORT:ADDRESS:PORT` (IPv6 addresses in brackets); any part may be empty. */
export function parseConnectTo(value: string): ConnectTo | undefined {
  const part = String.raw`(\[[^\]]*\]|[^:\[\]]*)`;
  const m = new RegExp(`^${part}:(\\d*):${part}:(\\d*)$`).exec(value.trim());
  if (!m) return undefined;
  const unbracket = (s: string): string => s.replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : 0;
  const toPort = m[4] ? Number(m[4]) : 0;
  if (port > 65535 || toPort > 65535) return undefined;
  return { host: unbracket(m[1]!), port, address: unbracket(m[3]!), toPort };
}
