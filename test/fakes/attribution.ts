// How Exchange Online attributes mail arriving through an OnPremises inbound connector (the
// relay handing signed mail back) to a tenant, for the connectors and accepted domains the fake
// holds. Microsoft's message center post MC1226222 ("Prevent/Fix: Guidance for On-Premises
// Connectors Configuration") gives the order: the domain of the TLS certificate the sending
// server presents, then the envelope sender (P1 MAIL FROM) domain, then the recipient domain;
// a certificate whose name is not an accepted domain of the tenant is an anti-pattern that "may
// unexpectedly stop working". KB 4019940 (OfficeDocs-Support, relay-access-denied-attr36-ndr.md)
// says what counts: an accepted domain or a host name directly under one (hostname.contoso.com
// for contoso.com, not hostname.subdomain.contoso.com), and gives the refusal text.
import type { FakeExchangeOnline, FakeRecord } from './exchange-online.ts';

export const ATTR36 = '550 5.7.64 Relay Access Denied ATTR36. For more details please refer to: https://support.microsoft.com/kb/3169958';

export interface ArrivingMail {
  /** The name in the client certificate the sending server presents. */
  readonly certificateName: string;
  /** The envelope sender; '' is the null sender. */
  readonly mailFrom: string;
  readonly recipients: readonly string[];
}

export interface TenantMailView {
  readonly id: string;
  readonly acceptedDomains: readonly string[];
  readonly inboundConnectors: readonly FakeRecord[];
}

export type Attribution =
  | { readonly tenantId: string; readonly by: 'certificate' | 'mail-from' | 'recipient' }
  | { readonly refused: string };

const norm = (d: string): string => d.trim().toLowerCase().replace(/\.$/, '');
const domainOf = (address: string): string | undefined => {
  const at = address.lastIndexOf('@');
  const d = at < 0 ? '' : norm(address.slice(at + 1));
  return d === '' ? undefined : d;
};

/** TlsSenderCertificateName matches the presented name (a leading *. stands for one label). */
function certificateMatches(configured: string, presented: string): boolean {
  const c = norm(configured);
  const p = norm(presented);
  if (c.startsWith('*.')) return p.endsWith(c.slice(1)) && !p.slice(0, p.length - c.length + 1).includes('.');
  return c === p;
}

/** The accepted domain a certificate name stands for: itself, or its parent (one label up). */
function certificateDomainAccepted(name: string, accepted: readonly string[]): boolean {
  const n = norm(name);
  const set = new Set(accepted.map(norm));
  return set.has(n) || set.has(n.slice(n.indexOf('.') + 1));
}

export function attributeArrival(tenants: readonly TenantMailView[], mail: ArrivingMail): Attribution {
  // Only tenants with an enabled OnPremises connector that trusts this certificate can take it.
  const candidates = tenants.filter((t) =>
    t.inboundConnectors.some(
      (c) => String(c.ConnectorType).toLowerCase() === 'onpremises' && c.Enabled !== false &&
        typeof c.TlsSenderCertificateName === 'string' && certificateMatches(c.TlsSenderCertificateName, mail.certificateName),
    ),
  );
  const byCert = candidates.find((t) => certificateDomainAccepted(mail.certificateName, t.acceptedDomains));
  if (byCert) return { tenantId: byCert.id, by: 'certificate' };
  const from = domainOf(mail.mailFrom);
  const byFrom = from === undefined ? undefined : candidates.find((t) => t.acceptedDomains.map(norm).includes(from));
  if (byFrom) return { tenantId: byFrom.id, by: 'mail-from' };
  const rcpt = mail.recipients.map(domainOf).filter((d): d is string => d !== undefined);
  const byRcpt = candidates.find((t) => t.acceptedDomains.map(norm).some((d) => rcpt.includes(d)));
  if (byRcpt) return { tenantId: byRcpt.id, by: 'recipient' };
  return { refused: ATTR36 };
}

/** The fake's tenants as attribution sees them. */
export function tenantMailViews(fake: FakeExchangeOnline, tenantIds: readonly string[]): TenantMailView[] {
  return tenantIds.map((id) => ({
    id,
    acceptedDomains: fake.acceptedDomainsOf(id).map((d) => d.DomainName),
    inboundConnectors: fake.objects(id, 'InboundConnector'),
  }));
}
