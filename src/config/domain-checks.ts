// Phase 4 of loading, for what Exchange Online attributes to a tenant: no tenant domain under
// another tenant's domain (Microsoft 365 keeps a subdomain in its parent's tenant, and the relay
// gives a sender to the nearest tenant domain), and a certificateDomain that is the tenant's own
// name — one of its domains or a host directly under one, used by no other tenant — because
// Exchange Online attributes mail coming back through the inbound connector by that name.
import { certificateDomainOwner, domainAndParents, isWithinDomain, normaliseDomain } from '../model/index.ts';
import { mapping, text } from '../policy/conditions/values.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { LoadedTenant } from './tenants.ts';

interface ClaimedDomain {
  readonly domain: string;
  readonly owner: LoadedTenant;
  readonly index: number;
}

export function checkTenantDomains(tenants: readonly LoadedTenant[], out: Diagnostics): void {
  checkNestedDomains(tenants, out);
  checkCertificateDomains(tenants, out);
}

function claimedDomains(lt: LoadedTenant): ClaimedDomain[] {
  const raw = Array.isArray(lt.data.domains) ? (lt.data.domains as unknown[]) : [];
  return raw.flatMap((value, index) => (typeof value === 'string' && value.trim() !== '' ? [{ domain: normaliseDomain(value), owner: lt, index }] : []));
}

/** A domain strictly under another tenant's domain (equal domains are `duplicate-domain`'s). */
function checkNestedDomains(tenants: readonly LoadedTenant[], out: Diagnostics): void {
  const all = tenants.flatMap(claimedDomains);
  const byDomain = new Map<string, ClaimedDomain[]>();
  for (const c of all) byDomain.set(c.domain, [...(byDomain.get(c.domain) ?? []), c]);
  for (const sub of all) {
    // The parents of the domain, farthest first (the message names the tenant's top domain).
    const parents = domainAndParents(sub.domain).slice(1).reverse();
    const parent = parents.flatMap((d) => byDomain.get(d) ?? []).find((p) => p.owner !== sub.owner);
    if (!parent) continue;
    const line = parent.owner.yaml.positionAt(['domains', parent.index]).line;
    out.error(sub.owner.tenant.file, sub.owner.yaml.positionAt(['domains', sub.index]), 'nested-domain',
      `domain ${sub.domain} is a subdomain of ${parent.domain}, claimed by ${parent.owner.tenant.file}:${line}: Microsoft 365 keeps a subdomain ` +
      'in the tenant of its parent domain, and the relay gives a sender to the nearest tenant domain; ' +
      `list ${sub.domain} in that tenant's domains, or remove it here`);
  }
}

function checkCertificateDomains(tenants: readonly LoadedTenant[], out: Diagnostics): void {
  const used = new Map<string, LoadedTenant>();
  for (const lt of tenants) {
    const raw = text(mapping(lt.data.exchange).certificateDomain);
    if (raw === undefined || raw.trim() === '') continue;
    const name = normaliseDomain(raw);
    const { tenant, yaml } = lt;
    const at = yaml.positionAt(['exchange', 'certificateDomain']);
    const domains = tenant.domains.map(normaliseDomain);
    const first = domains[0] ?? 'contoso.com';
    const why = 'Exchange Online attributes the mail the relay hands back to a tenant by this name and accepts it only when it is ' +
      "one of the tenant's accepted domains or a host directly under one";
    if (domains.length === 0) {
      // No domains to hold it against: the missing domains are reported already.
    } else if (name.includes('*')) {
      out.error(tenant.file, at, 'certificate-domain-not-owned',
        `certificateDomain ${name} is a wildcard: ${why}, so every tenant needs a name of its own; ` +
        `set it to a host name under one of this tenant's domains, such as relay.${first}`);
    } else if (certificateDomainOwner(name, domains) === undefined) {
      const under = domains.find((d) => isWithinDomain(name, d));
      out.error(tenant.file, at, 'certificate-domain-not-owned', under !== undefined
        ? `certificateDomain ${name} is more than one label below ${under}: ${why}; ` +
          `use relay.${under}, or add ${name.slice(name.indexOf('.') + 1)} to domains (and as an accepted domain of the tenant)`
        : `certificateDomain ${name} is not one of this tenant's domains (${domains.join(', ') || 'none'}) or a host name directly under one: ${why}; ` +
          `set it to a name of the tenant's own, such as relay.${first} (a DNS name the customer controls, with the relay's client certificate issued for it)`);
    }
    const other = used.get(name);
    if (other) {
      const line = other.yaml.positionAt(['exchange', 'certificateDomain']).line;
      out.error(tenant.file, at, 'duplicate-certificate-domain',
        `certificateDomain ${name} is already used by ${other.tenant.file}:${line}: Exchange Online attributes returning mail by this name, ` +
        `so each tenant needs its own; use a host name under one of this tenant's domains, such as relay.${first}`);
    } else {
      used.set(name, lt);
    }
  }
}
