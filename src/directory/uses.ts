// What a tenant's signatures and rules read from its directory, so that `sigops directory sync`
// asks Graph for those properties only and the snapshot holds no personal data that no
// signature shows and no rule tests. Templates are read through their Handlebars AST (every
// `user.<attribute>`), rule conditions through the registry (each says what it reads).
import type { Template, Tenant } from '../model/index.ts';
import { CONDITIONS, type ConditionRegistry } from '../policy/conditions/index.ts';
import { analyzeTemplate } from '../signature/index.ts';

export interface DirectoryUse {
  /**
   * The directory attributes read (email is always there); 'all' when a template reads `user`
   * as a whole ({{#with user}}), whose attributes cannot be told from the template.
   */
  readonly attributes: ReadonlySet<string> | 'all';
  /** Group memberships are read: by a rule (memberOf), the Exchange sender scope or a template. */
  readonly groups: boolean;
}

/** Everything: what the sync reads when it is not told what is used. */
export const EVERY_ATTRIBUTE: DirectoryUse = Object.freeze({ attributes: 'all', groups: true });

const ROLES = ['signature', 'banner', 'disclaimer'] as const;

/** The attributes the tenant's rules and the templates they name use. */
export function directoryUse(tenant: Tenant, templates: ReadonlyMap<string, Template>, conditions: ConditionRegistry = CONDITIONS): DirectoryUse {
  const names = new Set<string>();
  let whole = false;
  const seen = new Set<string>();
  for (const rule of tenant.rules) {
    for (const n of conditions.directoryAttributes(rule.when)) names.add(n);
    for (const role of ROLES) {
      const name = rule[role];
      if (name === undefined || seen.has(name)) continue;
      seen.add(name);
      const t = templates.get(name);
      if (!t) continue;
      for (const [source, kind] of [[t.html, 'html'], [t.text, 'text']] as const) {
        if (source === undefined) continue;
        const a = analyzeTemplate(source, kind);
        if (a.wholeUser) whole = true;
        for (const v of a.userAttributes) names.add(v.attribute);
      }
    }
  }
  const groups = whole || names.has('memberOf') || tenant.exchange.senders.kind === 'memberOf';
  names.delete('memberOf');
  names.delete('email');
  return Object.freeze({ attributes: whole ? 'all' : names, groups });
}
