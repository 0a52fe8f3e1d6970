// The preflight: for each tenant, every check, read-only, into one report. Tenants run a few
// at a time; a smart host shared by several tenants is probed once.
import type { ConfigRepo, Tenant } from '../model/index.ts';
import { ExchangeConnector, type ExchangeOptions } from '../exchange/index.ts';
import { checkClientCertificate } from './client-certificate.ts';
import { DoctorOptionError } from './errors.ts';
import { checkExchangeAccess } from './exchange-access.ts';
import { checkSentItemsScope } from './sent-items-scope.ts';
import { checkSmartHost, type ConnectTo, type HostResolver, type SmartHostOutcome } from './smart-host.ts';
import { resultFrom, skipped, type CheckResult, type DoctorReport, type TenantReport } from './types.ts';

export interface DoctorOptions {
  readonly config: ConfigRepo;
  /** Only this tenant (slug). */
  readonly tenant?: string;
  readonly exchange?: ExchangeOptions | ExchangeConnector;
  /** The relay's --client-cert-dir; without it the client certificate check is skipped. */
  readonly clientCertDir?: string;
  /** Extra trusted CA (PEM) for the smart host's and the client certificates. */
  readonly ca?: string;
  readonly connectTo?: readonly ConnectTo[];
  /** Per step of the SMTP probe and per DNS query. Default 10 s. */
  readonly timeoutMs?: number;
  /** Port the smart host is probed on (Exchange Online uses 25). */
  readonly smtpPort?: number;
  readonly resolver?: HostResolver;
  readonly ehloName?: string;
  /** Tenants checked side by side (default 4). */
  readonly concurrency?: number;
  readonly now?: Date;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  let tenants = options.config.tenants;
  if (options.tenant !== undefined) {
    tenants = tenants.filter((t) => t.slug === options.tenant);
    if (tenants.length === 0) {
      throw new DoctorOptionError(`no tenant "${options.tenant}" in the config repo`, 'Give --tenant the slug of a file in tenants/ (its name without .yaml).');
    }
  }
  const connector = options.exchange instanceof ExchangeConnector ? options.exchange : new ExchangeConnector(options.exchange ?? {});
  const probes = new Map<string, Promise<SmartHostOutcome>>();
  const smartHost = (host: string): Promise<SmartHostOutcome> => {
    const key = host.toLowerCase();
    let probe = probes.get(key);
    if (!probe) {
      probe = checkSmartHost(host, {
        ...(options.connectTo ? { connectTo: options.connectTo } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.smtpPort !== undefined ? { port: options.smtpPort } : {}),
        ...(options.resolver ? { resolver: options.resolver } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.ehloName ? { ehloName: options.ehloName } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      probes.set(key, probe);
    }
    return probe;
  };

  const check = async (tenant: Tenant): Promise<TenantReport> => {
    const [exchange, host, clientCert, sentItems] = await Promise.all([
      checkExchangeAccess(tenant, () => connector.tokenProvider(tenant.cloud), () => connector.client(tenant.id, tenant.cloud)),
      smartHost(tenant.exchange.smartHost),
      options.clientCertDir !== undefined
        ? checkClientCertificate({
            dir: options.clientCertDir,
            certificateDomain: tenant.exchange.certificateDomain,
            ...(options.ca ? { ca: options.ca } : {}),
            ...(options.now ? { now: options.now } : {}),
          })
        : undefined,
      // listed only for a tenant with the Sent Items update: the others' reports stay as they were
      tenant.sentItems ? checkSentItemsScope(tenant, () => connector.tokenProvider(tenant.cloud), () => connector.client(tenant.id, tenant.cloud)) : undefined,
    ]);
    const slug = tenant.slug;
    const checks: CheckResult[] = [
      resultFrom(slug, 'app-permission', exchange.permission),
      resultFrom(slug, 'exchange-role', exchange.role),
      resultFrom(slug, 'accepted-domains', exchange.acceptedDomains),
      resultFrom(slug, 'smart-host-dns', host.dns),
      resultFrom(slug, 'smart-host-tls', host.tls),
      clientCert
        ? resultFrom(slug, 'client-certificate', clientCert)
        : skipped('client-certificate', `not checked: give the relay's certificate directory with --client-cert-dir DIR to check ${tenant.exchange.certificateDomain}.crt/.key there`),
      ...(sentItems ? [resultFrom(slug, 'sent-items-scope', sentItems)] : []),
    ];
    return { slug, tenantId: tenant.id, name: tenant.name, checks };
  };

  const reports = await mapLimit(tenants, options.concurrency ?? 4, check);
  return { version: 1, tenants: reports };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
