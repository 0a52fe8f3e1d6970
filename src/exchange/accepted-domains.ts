// A tenant's accepted domains (Get-AcceptedDomain), and what they say about a tenant file:
// Exchange Online only sends mail from its accepted domains, and it attributes mail coming back
// through an OnPremises inbound connector to the tenant by the certificate's name first (then by
// the MAIL FROM domain, which the null sender lacks), so that name must be an accepted domain of
// the tenant or a host name directly under one (KB 4019940: hostname.contoso.com counts for
// contoso.com, hostname.subdomain.contoso.com does not; otherwise 550 5.7.64 ATTR36).
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

/**
 * The accepted domain a certificate name stands for: the same name, its parent (a host name
 * directly under an accepted domain), or — a guess, not documented — any parent that matches
 * subdomains.
 */
export function acceptedDomainForCertificate(name: string, accepted: readonly AcceptedDomain[]): AcceptedDomain | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === '' || n.includes('*')) return undefined;
  const parent = n.slice(n.indexOf('.') + 1);
  return acceptedDomainFor(n, accepted) ?? accepted.find((d) => d.domain === parent);
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
  if (cert && !acceptedDomainForCertificate(cert, accepted)) {
    const parent = cert.slice(cert.indexOf('.') + 1);
    out.push({
      code: 'certificate-domain-not-accepted',
      severity: 'error',
      domain: cert,
      message:
        `certificateDomain ${cert} is neither an accepted domain of the tenant (${list}) nor a host name directly under one: ` +
        'Exchange Online cannot attribute the mail the relay hands back to this tenant by its certificate (550 5.7.64 ATTR36, ' +
        'or lost for null senders); sigops changes nothing in this tenant until it can',
      advice:
        `Add ${parent} (or ${cert}) as an accepted domain of the tenant (verify it in the Microsoft 365 admin center > Settings > Domains), ` +
        "or set certificateDomain to a host name directly under one of the tenant's accepted domains, such as relay.<domain>, with a certificate issued for it.",
    });
  }
  return out;
}
