// `senders:` — the rule applies to these sender addresses only (envelope sender).
import { tenantOwnsSender } from '../../model/index.ts';
import type { Condition } from './types.ts';
import { itemAt, lowerCaseList } from './values.ts';

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Lower-case addresses. */
export type SendersSpec = readonly string[];

export const senders: Condition<SendersSpec> = {
  key: 'senders',
  cost: 2,
  read: lowerCaseList,
  check(spec, c) {
    spec.forEach((s, j) => {
      if (ADDRESS.test(s) && !tenantOwnsSender(c.tenant, s)) {
        c.error(itemAt(c, 'senders', j), 'sender-outside-domains',
          `sender ${s} is not in this tenant's domains (${c.tenant.domains.join(', ')}), so the rule could never match it; fix the address or add the domain`);
      }
    });
  },
  compile(spec) {
    const set = new Set(spec.map((s) => s.toLowerCase()));
    return (m) => set.has(m.sender);
  },
  sample: (spec, s) => ({ ...s, preferredSenders: [...s.preferredSenders, ...spec] }),
};
