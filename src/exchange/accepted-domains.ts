// A tenant's accepted domains (Get-AcceptedDomain), and what they say about a tenant file:
// Exchange Online only sends mail from its accepted domains, and since 2023 it attributes mail
// coming back through an OnPremises inbound connector to the tenant by the certificate's name,
// which must therefore be one of them (or under one that matches subdomains).
import type { Tenant } from '../model/index.ts';
import type { ExchangeClient } from './client.ts';

export interface AcceptedDomain {
  /** Lower-case domain name. */
  readonly domain: string;
  /** Authoritative, InternalRelay or ExternalRelay. */
  readonly type: string;
  readonly isDefault: boolean;
  /** InternalRelay domains may match their subdomains too. */
  readonly matchSubDomains: boolean;
}

export async function listAcceptedDomains(client: ExchangeClient): Promise<AcceptedDomain[]> {
  const records = await client.invoke('Get-AcceptedDomain', {});
  return records
    .map((r) => ({
      domain: String(r.DomainName ?? r.Name ?? '').trim().toLowerCase().replace(/\.$/, ''),
      type: String(r.DomainType ?? 'Authoritative'),
      isDefault: r.Default === true || String(r.Default).toLowerCase() === 'true',
      matchSubDomains: r.MatchSubDomains === true || String(r.MatchSubDomains).toLowerCase() === 'true',
    }))
    .filter((d) => d.domain !== '');
}

/** The accepted domain that covers `name`: the same name, or a parent that matches subdomains. */
export function acceptedDomainFor(name: string, accepted: readonly AcceptedDomain[]): AcceptedDomain | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  return (
    accepted.find((d) => d.domain === n) ??
    accepted.find((d) => d.matchSubDomains && n.endsWith(`.${d.domain}`))
  );
}

/** Something about a tenant's domains that Exchange does not agree with. */
export interface DomainFinding {
  /** `domain-not-accepted`: a sender domain the tenant does not have; `certificate-domain-not-accepted`: mail coming back cannot be attributed. */
  readonly code: 'domain-not-accepted' | 'certificate-domain-not-accepted';
  readonly severity: 'error' | 'warning';
  readonly domain: string;
  readonly message: string;
  readonly advice: string;
}

export function acceptedDomainFindings(tenant: Tenant, accepted: readonly AcceptedDomain[]): DomainFinding[] {
  const out: DomainFinding[] = [];
  const list = accepted.map((d) => d.domain).join(', ') || '(none)';
  for (const domain of tenant.domains) {
    if (acceptedDomainFor(domain, accepted)) continue;
    out.push({
      code: 'domain-not-accepted',
      severity: 'warning',
      domain,
      message: `${domain} (in domains of ${tenant.file}) is not an accepted domain of the tenant (${list}); Exchange never sends mail from it`,
      advice: `Remove ${domain} from domains, or add it as an accepted domain in the Exchange admin center (Mail flow > Accepted domains) after verifying it in Microsoft 365.`,
    });
  }
  const cert = tenant.exchange.certificateDomain;
  if (cert && !acceptedDomainFor(cert, accepted)) {
    out.push({
      code: 'certificate-domain-not-accepted',
      severity: 'error',
      domain: cert,
      message: `certificateDomain ${cert} is not an accepted domain of the tenant (${list}): Exchange Online cannot attribute mail the relay hands back to this tenant, and refuses it`,
      advice: `Add ${cert} as an accepted domain of the tenant (verify it in the Microsoft 365 admin center, then Exchange admin center > Mail flow > Accepted domains), or set certificateDomain to a name that is one.`,
    });
  }
  return out;
}
