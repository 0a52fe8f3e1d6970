// Which tenant a sender belongs to, and which names Exchange Online attributes to a tenant: the
// domain of an e-mail address, whether a tenant owns it, which domains its transport rule routes,
// and which certificate names can stand for it. One definition for everything that asks (the
// relay's authorisation, the transport rule sigops writes, `sigops sign` and `sigops preview`
// through Policy.tenantForSender, the config checks), so they cannot disagree about an address.
//
// Subdomains belong to the tenant of their parent domain: Microsoft 365 keeps a subdomain in the
// tenant that verified its parent, and Exchange's SenderDomainIs may match subdomains (its cmdlet
// reference says it does). So the relay accepts a subdomain sender, whichever way Exchange
// matches, and nothing the rule routes is refused; the config checks make sure no tenant
// domain sits under another tenant's domain, so the nearest domain always names one tenant.
import type { Tenant } from './index.ts';

/** A domain name as compared everywhere: lower-case, without surrounding space or a trailing dot. */
export function normaliseDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * The domain of an address (after its last `@`), lower-case and without a trailing dot;
 * undefined when the address has no domain (the null sender `<>` included).
 */
export function senderDomain(address: string): string | undefined {
  const a = address.trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = normaliseDomain(a.slice(at + 1));
  return domain === '' ? undefined : domain;
}

/** Whether `name` is `domain` or one of its subdomains (label by label: xcontoso.com is not under contoso.com). */
export function isWithinDomain(name: string, domain: string): boolean {
  const n = normaliseDomain(name);
  const d = normaliseDomain(domain);
  return n === d || n.endsWith(`.${d}`);
}

/** A domain and each of its parents, nearest first: a.b.contoso.com, b.contoso.com, contoso.com, com. */
export function domainAndParents(domain: string): string[] {
  const labels = normaliseDomain(domain).split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((d) => d !== '');
}

/**
 * The tenant domain a sender falls under: its own domain when listed, else the nearest listed
 * parent; undefined for the null sender and for other domains.
 */
export function owningDomain(domains: readonly string[], address: string): string | undefined {
  const domain = senderDomain(address);
  if (domain === undefined) return undefined;
  const listed = new Set(domains.map(normaliseDomain));
  return domainAndParents(domain).find((d) => listed.has(d));
}

/** Whether `address` is in one of the tenant's domains or a subdomain of one. */
export function tenantOwnsSender(tenant: Tenant, address: string): boolean {
  return owningDomain(tenant.domains, address) !== undefined;
}

/**
 * The sender domains the tenant's transport rule routes to the relay (SenderDomainIs): exactly
 * the domains the relay accepts for the tenant. Whether Exchange matches them exactly or with
 * their subdomains, every sender routed is one `tenantOwnsSender` accepts.
 */
export function routedSenderDomains(tenant: Tenant): readonly string[] {
  return [...new Set(tenant.domains.map(normaliseDomain))];
}

/**
 * The tenant domain a certificate name stands for, as Exchange Online attributes mail coming
 * back through an OnPremises inbound connector: the domain itself or a host name directly under
 * it (relay.contoso.com for contoso.com; not relay.mail.contoso.com, and never a wildcard).
 * undefined when the name fits none of `domains`.
 */
export function certificateDomainOwner(name: string, domains: readonly string[]): string | undefined {
  const n = normaliseDomain(name);
  if (n === '' || n.includes('*')) return undefined;
  const listed = new Set(domains.map(normaliseDomain));
  if (listed.has(n)) return n;
  const dot = n.indexOf('.');
  const parent = dot < 0 ? '' : n.slice(dot + 1);
  return listed.has(parent) ? parent : undefined;
}
