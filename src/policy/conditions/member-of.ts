// `memberOf:` — the sender must be a member of at least one of these groups (from the directory).
import type { Condition } from './types.ts';
import { didYouMean, itemAt, lowerCaseList } from './values.ts';

/** Lower-case group addresses. */
export type MemberOfSpec = readonly string[];

export const memberOf: Condition<MemberOfSpec> = {
  key: 'memberOf',
  cost: 3,
  read: lowerCaseList,
  check(spec, c) {
    const d = c.directory;
    // An empty directory (a Graph snapshot not synced yet) proves nothing about groups.
    if (!d || d.users === 0) return;
    spec.forEach((g, j) => {
      if (!d.groups.has(g)) {
        c.warn(itemAt(c, 'memberOf', j), 'unknown-group', `no directory user is a member of ${g}${didYouMean(g, d.groups)}; the condition matches nobody yet`);
      }
    });
  },
  directoryAttributes: () => ['memberOf'],
  compile(spec) {
    const groups = new Set(spec.map((g) => g.toLowerCase()));
    return (m) => {
      if (!m.user) return false;
      for (const g of m.user.memberOf) if (groups.has(g)) return true;
      return false;
    };
  },
};
