// Who may relay: fail closed. Runs in the signing engine's `choose` callback, once the header
// block is parsed and before a byte goes to the next hop.
import { senderDomain, tenantOwnsSender } from '../model/index.ts';
import type { Policy, TenantPolicy } from '../policy/types.ts';
import type { MessageHeaders } from './signing.ts';
import { RelayError } from './errors.ts';

export const TENANT_HEADER = 'X-MS-Exchange-CrossTenant-Id';

export interface Authorised {
  readonly tenant: TenantPolicy;
  /** Null sender (bounce, auto-reply): authorised by the From header's domain, never signed. */
  readonly nullSender: boolean;
}

/**
 * Exactly one tenant header naming a registered tenant, and a sender of that tenant: a domain
 * of it or a subdomain of one (`tenantOwnsSender`, the definition the transport rule is built
 * from, so nothing Exchange routes here is refused). The envelope sender is what Exchange
 * vouches for (the rule matches it, SenderAddressLocation Envelope); for the null sender
 * (MAIL FROM:<>), which the rule never routes, the From header's domain must belong to the
 * tenant instead.
 */
export function authorise(policy: Policy, headers: MessageHeaders, envelopeSender: string): Authorised {
  // every such field counts, an empty one too: the next hop sees each of them
  const ids = headers.getAll(TENANT_HEADER).map((v) => v.trim());
  if (ids.length > 1) {
    throw new RelayError(550, '5.7.1', `Relaying denied: ${ids.length} ${TENANT_HEADER} headers, exactly one is required`, 'tenant-header-duplicated');
  }
  const id = ids[0] ?? '';
  if (id === '') {
    throw new RelayError(550, '5.7.1', `Relaying denied: no ${TENANT_HEADER} header; this relay only accepts mail from registered Microsoft 365 tenants`, 'tenant-header-missing');
  }
  const tenant = policy.tenantById(id);
  if (!tenant) {
    // the id is not echoed back unbounded: it came from the client
    throw new RelayError(550, '5.7.1', `Relaying denied: tenant ${id.slice(0, 64).replace(/[^\w.-]/g, '?')} is not registered with this relay`, 'tenant-unknown');
  }
  const nullSender = envelopeSender === '';
  const address = nullSender ? (headers.from()?.address ?? '') : envelopeSender;
  // The tenant whose domain is nearest the sender's must be this one (with nested domains across
  // tenants, which the config checks refuse, the more specific tenant owns the subdomain).
  if (!tenantOwnsSender(tenant.tenant, address) || policy.tenantForSender(address) !== tenant) {
    const what = nullSender ? 'From header domain' : 'sender domain';
    throw new RelayError(550, '5.7.1', `Relaying denied: ${what} ${senderDomain(address) ?? '(none)'} does not belong to tenant ${tenant.tenant.slug}`, 'sender-domain');
  }
  return { tenant, nullSender };
}
