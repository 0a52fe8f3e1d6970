// `recipientDomains:` — at least one recipient is in one of these domains or a subdomain of one.
import type { Condition } from './types.ts';
import { lowerCaseList } from './values.ts';

/** Lower-case domains. */
export type RecipientDomainsSpec = readonly string[];

/** `domain` is `want` or a subdomain of it. */
export function inDomain(domain: string, want: string): boolean {
  return domain === want || (domain.length > want.length && domain.endsWith(want) && domain[domain.length - want.length - 1] === '.');
}

export const recipientDomains: Condition<RecipientDomainsSpec> = {
  key: 'recipientDomains',
  cost: 4,
  read: lowerCaseList,
  compile(spec) {
    const wanted = spec.map((d) => d.toLowerCase());
    return (m) => {
      for (const d of m.recipientDomains) for (const want of wanted) if (inDomain(d, want)) return true;
      return false;
    };
  },
  sample: (spec, s) => (spec[0] === undefined ? s : { ...s, recipientDomain: spec[0] }),
};
