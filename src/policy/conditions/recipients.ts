// `recipients:` — internal (every recipient in the tenant's domains), external (at least one
// outside them) or any.
import type { Condition } from './types.ts';
import { inDomain, recipientDomains } from './recipient-domains.ts';

export type RecipientsSpec = 'internal' | 'external' | 'any';

export const recipients: Condition<RecipientsSpec> = {
  key: 'recipients',
  cost: 1,
  read: (v) => (v === 'internal' || v === 'external' || v === 'any' ? v : undefined),
  check(spec, c) {
    if (spec !== 'internal') return;
    if (!c.tenant.exchange.internal) {
      c.warn(c.at(['recipients']), 'rule-never-matches',
        `recipients: internal never matches while exchange.internal is false (Exchange routes only mail to outside recipients through sigops); set exchange.internal: true or remove the condition`);
    }
    const outside = (c.sibling(recipientDomains) ?? []).filter((d) => !c.tenant.domains.some((t) => inDomain(d, t)));
    if (outside.length > 0) {
      c.error(c.at(['recipientDomains']), 'contradictory-condition',
        `recipients: internal cannot hold for ${outside.join(', ')}, outside this tenant's domains; the rule could never match — remove one of the two conditions`);
    }
  },
  constrains: (spec) => spec !== 'any',
  compile(spec) {
    if (spec === 'internal') return (m) => m.allInternal;
    if (spec === 'external') return (m) => m.anyExternal;
    return undefined;
  },
  sample: (spec, s) => (spec === 'internal' ? { ...s, internalRecipient: true } : s),
};
