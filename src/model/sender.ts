// Which tenant a sender belongs to: the domain of an e-mail address, and whether a tenant owns
// it. One definition for everything that asks (the relay's authorisation, `sigops sign` and
// `sigops preview` through Policy.tenantForSender), so they cannot disagree about an address.
import type { Tenant } from './index.ts';

/**
 * The domain of an address (after its last `@`), lower-case and without a trailing dot;
 * undefined when the address has no domain.
 */
export function senderDomain(address: string): string | undefined {
  const a = address.trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = a.slice(at + 1).toLowerCase().replace(/\.$/, '');
  return domain === '' ? undefined : domain;
}

/** Whether `address` is in one of the tenant's domains (exact domains: a subdomain is not owned). */
export function tenantOwnsSender(tenant: Tenant, address: string): boolean {
  const domain = senderDomain(address);
  return domain !== undefined && tenant.domains.includes(domain);
}
