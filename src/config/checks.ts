// Phase 4 of loading: checks across files, once every file has been read — tenant ids and
// domains claimed once, no domain under another tenant's and a certificate name of the tenant's
// own (domain-checks.ts), rules against templates, the directory and their own conditions (each
// condition checks itself through the registry), directory users outside their tenant's
// domains, templates nobody uses, template variables no user has, and attributes a Graph
// tenant's templates or rules use that its sync never writes.
import type { ConditionRegistry, DirectoryFacts } from '../policy/conditions/index.ts';
import { didYouMean } from '../policy/conditions/values.ts';
import { overridesFileOf, tenantOwnsSender } from '../model/index.ts';
import { GRAPH_ATTRIBUTES } from '../directory/index.ts';
import { checkTenantDomains } from './domain-checks.ts';
import { NO_WARNINGS, TOP, type Diagnostics, type Warnings } from './diagnostics.ts';
import type { LoadedDirectories, LoadedDirectory } from './directories.ts';
import { SCHEMAS } from './schema.ts';
import type { LoadedTemplate } from './templates.ts';
import type { LoadedTenant, LoadedTenants } from './tenants.ts';

const ROLES = ['signature', 'banner', 'disclaimer'] as const;

/** Attributes the directory schema documents: always valid in rule conditions. */
const STANDARD_ATTRIBUTES: readonly string[] = (() => {
  const schema = SCHEMAS.directory as {
    $defs: { user: { properties: Record<string, unknown> } };
  };
  return Object.keys(schema.$defs.user.properties).filter((k) => k !== 'memberOf' && k !== 'aliases');
})();

/** What the cross-file checks look at. */
export interface LoadedFiles {
  readonly templates: ReadonlyMap<string, LoadedTemplate>;
  readonly tenants: LoadedTenants;
  readonly directories: LoadedDirectories;
}

export function checkAcrossFiles(files: LoadedFiles, conditions: ConditionRegistry, out: Diagnostics): void {
  const tenants = files.tenants.tenants;
  checkUniqueness(tenants, out);
  checkTenantDomains(tenants, out);
  for (const lt of tenants) checkTenant(lt, files.templates, files.directories.get(lt.tenant.slug), conditions, out);
  checkDirectoryUsers(tenants, files.directories, out);
  const notSynced = checkGraphAttributes(files, conditions, out);
  checkTemplateUse(files, out, notSynced);
}

/** Tenant ids and sender domains belong to one tenant each. */
function checkUniqueness(tenants: readonly LoadedTenant[], out: Diagnostics): void {
  const ids = new Map<string, LoadedTenant>();
  const domains = new Map<string, { t: LoadedTenant; line: number; raw: string }>();
  for (const lt of tenants) {
    const { tenant, yaml } = lt;
    const other = tenant.id === '' ? undefined : ids.get(tenant.id);
    if (other) {
      const p = other.yaml.positionAt(['id']);
      out.error(tenant.file, yaml.positionAt(['id']), 'duplicate-tenant-id',
        `tenant id ${tenant.id} is already used by ${other.tenant.file}:${p.line}; each Entra tenant may be configured once (merge the two files)`);
    } else if (tenant.id !== '') {
      ids.set(tenant.id, lt);
    }
    const raw = Array.isArray(lt.data.domains) ? (lt.data.domains as unknown[]) : [];
    raw.forEach((value, i) => {
      if (typeof value !== 'string') return;
      const domain = value.toLowerCase();
      const seen = domains.get(domain);
      const here = yaml.positionAt(['domains', i]);
      if (!seen) {
        domains.set(domain, { t: lt, line: here.line, raw: value });
      } else if (seen.t === lt) {
        // Exact repeats are the schema's (uniqueItems); this catches differences in case.
        if (seen.raw !== value) {
          out.error(tenant.file, here, 'duplicate-domain', `domain ${domain} is listed twice (first at line ${seen.line}, as ${seen.raw}); remove the duplicate`);
        }
      } else {
        out.error(tenant.file, here, 'duplicate-domain',
          `domain ${domain} is already claimed by ${seen.t.tenant.file}:${seen.line}; a sender domain can belong to one tenant only`);
      }
    });
  }
}

/** The Exchange sender group, and every rule: unique names, reachable, known templates, sound conditions. */
function checkTenant(
  lt: LoadedTenant,
  templates: ReadonlyMap<string, LoadedTemplate>,
  directory: LoadedDirectory | undefined,
  conditions: ConditionRegistry,
  out: Diagnostics,
): void {
  const { tenant, yaml } = lt;
  const file = tenant.file;
  // Warnings about a tenant that does not pass the schema would be guesses: errors only.
  const warnings: Warnings = lt.valid ? out : NO_WARNINGS;
  const at = (...path: (string | number)[]) => yaml.positionAt(path);
  const attributes = new Set<string>([...STANDARD_ATTRIBUTES, ...(directory?.attributes ?? [])]);
  attributes.delete('memberOf');
  const groups = new Set<string>();
  if (directory) for (const u of directory.directory.users.values()) for (const g of u.memberOf) groups.add(g);
  const facts: DirectoryFacts | undefined = directory ? { users: directory.directory.users.size, groups } : undefined;

  const scope = tenant.exchange.senders;
  if (scope.kind === 'memberOf' && facts && facts.users > 0 && !groups.has(scope.group)) {
    warnings.warn(file, at('exchange', 'senders', 'memberOf'), 'unknown-group',
      `no directory user is a member of ${scope.group}${didYouMean(scope.group, groups)}, so Exchange would route nobody's mail through sigops; check the group address`);
  }

  const names = new Map<string, number>();
  let catchAll: string | undefined;
  const rawRules = Array.isArray(lt.data.rules) ? (lt.data.rules as unknown[]) : [];
  tenant.rules.forEach((rule, i) => {
    const seen = names.get(rule.name.toLowerCase());
    if (seen !== undefined) {
      out.error(file, at('rules', i, 'name'), 'duplicate-rule',
        `rule name '${rule.name}' is already used by rule '${tenant.rules[seen]!.name}' (line ${tenant.rules[seen]!.position.line}); rule names must be unique within a tenant, ignoring case`);
    } else {
      names.set(rule.name.toLowerCase(), i);
    }
    if (catchAll !== undefined) {
      warnings.warn(file, at('rules', i), 'unreachable-rule',
        `rule '${rule.name}' can never apply: rule '${catchAll}' before it matches every message; move it above '${catchAll}'`);
    }

    for (const role of ROLES) {
      const name = rule[role];
      if (name === undefined) continue;
      const t = templates.get(name);
      if (!t || !t.htmlFile) {
        out.error(file, at('rules', i, role), 'template-not-found',
          `${role} template '${name}' not found${didYouMean(name, templates.keys())}: add templates/${name}.html.hbs or fix the name`);
      }
    }

    const rawWhen = (rawRules[i] as { when?: unknown } | null | undefined)?.when;
    conditions.check(rule, rawWhen, {
      tenant, rule, directory: facts, attributes,
      at: (path, keyOf) => yaml.positionAt(['rules', i, 'when', ...path], keyOf),
      error: (p, code, message) => out.error(file, p, code, message),
      warn: (p, code, message) => warnings.warn(file, p, code, message),
    });
    if (catchAll === undefined && !conditions.constrains(rule.when)) catchAll = rule.name;
  });
}

/** Users whose address is outside the tenant's domains can never be matched. */
function checkDirectoryUsers(tenants: readonly LoadedTenant[], directories: LoadedDirectories, out: Diagnostics): void {
  for (const { tenant, valid } of tenants) {
    const d = directories.get(tenant.slug);
    if (!d || !valid) continue;
    d.data.users.forEach((u, i) => {
      const email = String(u.email ?? '').toLowerCase();
      if (email !== '' && !tenantOwnsSender(tenant, email)) {
        out.warn(d.yaml.file, d.yaml.positionAt(['users', i, 'email']), 'user-outside-domains',
          `user ${email} is not in the domains of tenant ${tenant.slug} (${tenant.domains.join(', ')}); their mail is never signed with these attributes`);
      }
      if (!Array.isArray(u.aliases)) return;
      // Aliases the overrides gave are reported there.
      const j = d.overrides?.entryOf.get(i);
      const o = j !== undefined && d.overrides && Array.isArray(d.overrides.yaml.data && (d.overrides.yaml.data as { users?: { aliases?: unknown }[] }).users?.[j]?.aliases)
        ? { yaml: d.overrides.yaml, index: j }
        : { yaml: d.yaml, index: i };
      u.aliases.forEach((a, k) => {
        const alias = typeof a === 'string' ? a.toLowerCase() : '';
        if (alias !== '' && !tenantOwnsSender(tenant, alias)) {
          out.warn(o.yaml.file, o.yaml.positionAt(['users', o.index, 'aliases', k]), 'user-outside-domains',
            `alias ${alias} of ${email} is not in the domains of tenant ${tenant.slug} (${tenant.domains.join(', ')}); mail from it never reaches sigops`);
        }
      });
    });
  }
}

/**
 * Graph tenants: a template or rule using an attribute that `sigops directory sync` never
 * writes (and the tenant's overrides do not set) is always empty for them. Returns the
 * template spots reported, so that the "no user has it" warning does not repeat them.
 */
function checkGraphAttributes({ templates, tenants, directories }: LoadedFiles, conditions: ConditionRegistry, out: Diagnostics): Set<string> {
  const reported = new Set<string>();
  const provided = [...GRAPH_ATTRIBUTES].filter((a) => a !== 'aliases').join(', ');
  for (const { tenant, yaml, valid } of tenants.tenants) {
    if (!valid || tenant.directory.source !== 'graph') continue;
    const overridden = directories.get(tenant.slug)?.overrides?.attributes ?? new Set<string>();
    const missing = (a: string): boolean => !GRAPH_ATTRIBUTES.has(a) && !overridden.has(a);
    const advice = (a: string): string =>
      `tenant ${tenant.slug} reads its directory from Microsoft Graph, whose sync never writes '${a}' (it writes ${provided}), so user.${a} is always empty for its senders; ` +
      `set it per user in ${overridesFileOf(tenant).file}, or fix the name`;
    const seen = new Set<string>();
    tenant.rules.forEach((rule, i) => {
      for (const a of conditions.directoryAttributes(rule.when)) {
        if (missing(a)) out.warn(tenant.file, yaml.positionAt(['rules', i, 'when'], a), 'attribute-not-synced', `rule '${rule.name}': ${advice(a)}`);
      }
      for (const role of ROLES) {
        const name = rule[role];
        const t = name === undefined || seen.has(name) ? undefined : templates.get(name);
        if (!t || !t.valid) continue;
        seen.add(t.name);
        for (const v of t.variables) {
          const key = `${v.file}:${v.line}:${v.col}`;
          if (!missing(v.attribute) || reported.has(`${key}:${tenant.slug}`)) continue;
          reported.add(`${key}:${tenant.slug}`);
          reported.add(key);
          out.warn(v.file, v, 'attribute-not-synced', advice(v.attribute));
        }
      }
    });
  }
  return reported;
}

/** Templates no rule uses, and template variables no directory user of any tenant using the template has. */
function checkTemplateUse({ templates, tenants, directories }: LoadedFiles, out: Diagnostics, alreadyReported: ReadonlySet<string> = new Set()): void {
  const used = new Set<string>();
  for (const { tenant } of tenants.tenants) {
    for (const rule of tenant.rules) for (const role of ROLES) if (rule[role] !== undefined) used.add(rule[role]);
  }
  for (const t of templates.values()) {
    if (!t.valid) continue;
    if (!used.has(t.name)) {
      if (!tenants.allValid) continue; // a broken tenant file may be the one using it
      out.warn(t.htmlFile!, TOP, 'unused-template', `template '${t.name}' is not used by any rule; reference it from a rule or remove it`);
      continue;
    }
    const known = new Set<string>(['email', 'displayName', 'memberOf']);
    let complete = true;
    let anyUsers = false;
    for (const { tenant } of tenants.tenants) {
      if (!tenant.rules.some((r) => r.signature === t.name || r.banner === t.name || r.disclaimer === t.name)) continue;
      const d = directories.get(tenant.slug);
      if (!d) { complete = false; continue; }
      if (d.directory.users.size > 0) anyUsers = true;
      for (const a of d.attributes) known.add(a);
    }
    if (!complete || !anyUsers) continue;
    const reported = new Set<string>();
    for (const v of t.variables) {
      if (known.has(v.attribute) || reported.has(`${v.file}:${v.attribute}`) || alreadyReported.has(`${v.file}:${v.line}:${v.col}`)) continue;
      reported.add(`${v.file}:${v.attribute}`);
      out.warn(v.file, v, 'unknown-template-variable',
        `no directory user has '${v.attribute}'${didYouMean(v.attribute, known)}, so user.${v.attribute} is always empty; add it to the directory or fix the name`);
    }
  }
}
