// Loading a config repository: read every file safely, parse YAML with positions, validate
// against the JSON Schemas, then check across files. Every problem is reported at once, each
// with file:line:col; warnings are kept apart from errors.
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type {
  ConfigRepo, Directory, DirectorySource, HostPort, Rule, RuleCondition, SenderScope, SourcePosition, Template, Tenant,
} from '../model/index.ts';
import { ConfigError, ConfigInvalidError, ConfigWarning, compareDiagnostics, type ConfigDiagnostic, type ConfigProblem } from './errors.ts';
import {
  MAX_DIRECTORY_BYTES, MAX_FILE_BYTES, parseYaml, readTextFile, type Sink, type YamlFile,
} from './source.ts';
import { SCHEMAS, validateSchema } from './schema.ts';
import { analyzeTemplate, closestName, type TemplateVariable } from '../signature/index.ts';
import { directoryFromData, type DirectoryFileData } from '../directory/index.ts';

export * from './errors.ts';
export type * from '../model/index.ts';
export { MAX_FILE_BYTES, MAX_DIRECTORY_BYTES, MAX_ALIAS_COUNT } from './source.ts';

export type LoadResult =
  | { readonly ok: true; readonly config: ConfigRepo; readonly warnings: ConfigDiagnostic[] }
  | { readonly ok: false; readonly errors: ConfigDiagnostic[]; readonly warnings: ConfigDiagnostic[] };

/** Loads and validates a config repository; throws ConfigInvalidError (with every error) when invalid. */
export async function loadValidConfig(root: string): Promise<{ config: ConfigRepo; warnings: ConfigDiagnostic[] }> {
  const r = await loadConfigRepo(root);
  if (!r.ok) throw new ConfigInvalidError(resolve(root), r.errors, r.warnings);
  return { config: r.config, warnings: r.warnings };
}

const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const CONDITION_KEYS = new Set(['senders', 'memberOf', 'recipients', 'recipientDomains', 'between']);
const ROLES = ['signature', 'banner', 'disclaimer'] as const;

/** Attributes the directory schema documents: always valid in rule conditions. */
const STANDARD_ATTRIBUTES: readonly string[] = (() => {
  const schema = SCHEMAS.directory as {
    $defs: { user: { properties: Record<string, unknown> } };
  };
  return Object.keys(schema.$defs.user.properties).filter((k) => k !== 'memberOf');
})();

class Collector implements Sink {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  add(p: ConfigProblem): void {
    (p.severity === 'error' ? this.errors : this.warnings).push(p);
  }
  error(file: string, pos: { line: number; col: number }, code: string, message: string): void {
    this.errors.push(new ConfigError(file, pos.line, pos.col, code, message));
  }
  warn(file: string, pos: { line: number; col: number }, code: string, message: string): void {
    this.warnings.push(new ConfigWarning(file, pos.line, pos.col, code, message));
  }
}

const TOP = { line: 1, col: 1 };

async function listDir(abs: string): Promise<{ name: string; isFile: boolean }[] | undefined> {
  try {
    const entries = await readdir(abs, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, isFile: e.isFile() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** A regular file inside `root` (a symbolic link may not lead out of the repository). */
async function isFileInside(root: string, abs: string): Promise<boolean> {
  try {
    if (!(await stat(abs)).isFile()) return false;
    const [r, f] = await Promise.all([realpath(root), realpath(abs)]);
    return f.startsWith(r.endsWith(sep) ? r : r + sep);
  } catch {
    return false;
  }
}

function suggestion(name: string, options: Iterable<string>): string {
  const best = closestName(name, options);
  return best ? ` (did you mean '${best}'?)` : '';
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

interface TemplateSource {
  readonly name: string;
  html?: string;
  text?: string;
  htmlFile?: string;
  textFile?: string;
  valid: boolean;
  variables: TemplateVariable[];
}

interface LoadedTenant {
  readonly tenant: Tenant;
  readonly yaml: YamlFile;
  readonly data: Record<string, unknown>;
  /** Passed the schema: only such tenants end up in a ConfigRepo. */
  readonly valid: boolean;
  /** The directory reference is usable (always, for a valid tenant). */
  readonly directoryKnown: boolean;
}

interface LoadedDirectory {
  readonly directory: Directory;
  readonly yaml: YamlFile;
  readonly data: DirectoryFileData;
  readonly attributes: Set<string>;
}

/** Reads, validates and cross-checks the config repository at `root`. Never throws. */
export async function loadConfigRepo(root: string): Promise<LoadResult> {
  try {
    return await load(root);
  } catch (err) {
    // A bug or an unreadable folder must not take the caller (the relay) down.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [new ConfigError('.', 1, 1, 'internal-error', `config could not be loaded: ${message}`)], warnings: [] };
  }
}

async function load(root: string): Promise<LoadResult> {
  const abs = resolve(root);
  const out = new Collector();
  const finish = (config: () => ConfigRepo): LoadResult => {
    const errors = [...out.errors].sort(compareDiagnostics);
    const warnings = [...out.warnings].sort(compareDiagnostics);
    return errors.length > 0 ? { ok: false, errors, warnings } : { ok: true, config: config(), warnings };
  };

  if (!(await stat(abs).then((s) => s.isDirectory(), () => false))) {
    out.error('.', TOP, 'config-missing', `config directory ${abs} does not exist; pass --config with the path of your config repository`);
    return finish(() => { throw new Error('unreachable'); });
  }

  // ---- templates -------------------------------------------------------------------------
  const templates = new Map<string, TemplateSource>();
  const templateEntries = (await listDir(join(abs, 'templates'))) ?? [];
  for (const e of templateEntries) {
    if (e.name.startsWith('.')) continue;
    const file = `templates/${e.name}`;
    const m = /^(.+)\.(html|txt)\.hbs$/.exec(e.name);
    if (!e.isFile || !m) {
      out.warn(file, TOP, 'ignored-file', `ignored: templates/ holds <name>.html.hbs and <name>.txt.hbs files only`);
      continue;
    }
    const name = m[1]!;
    if (!TEMPLATE_NAME.test(name)) {
      out.error(file, TOP, 'invalid-template-name', `template name '${name}' must start with a letter or digit and use only letters, digits, '.', '-' and '_'`);
      continue;
    }
    const t = templates.get(name) ?? { name, valid: true, variables: [] };
    if (m[2] === 'html') t.htmlFile = file;
    else t.textFile = file;
    templates.set(name, t);
  }
  await Promise.all([...templates.values()].map(async (t) => {
    for (const kind of ['html', 'text'] as const) {
      const file = kind === 'html' ? t.htmlFile : t.textFile;
      if (!file) continue;
      const text = await readTextFile(join(abs, file), file, MAX_FILE_BYTES, out);
      if (text === undefined) { t.valid = false; continue; }
      const analysis = analyzeTemplate(text, kind);
      for (const p of analysis.problems) out.error(file, p, p.code, p.message);
      for (const w of analysis.warnings) out.warn(file, w, w.code, w.message);
      if (analysis.problems.length > 0) t.valid = false;
      if (kind === 'html') t.html = text;
      else t.text = text;
      t.variables.push(...analysis.userAttributes.map((v) => ({ ...v, file })));
    }
  }));
  for (const t of templates.values()) {
    if (!t.htmlFile) {
      out.error(t.textFile!, TOP, 'template-missing-html', `${t.textFile} has no HTML twin: add templates/${t.name}.html.hbs (a .txt.hbs only supplies the plain-text version)`);
      t.valid = false;
    }
  }

  // ---- tenants ---------------------------------------------------------------------------
  const tenantEntries = await listDir(join(abs, 'tenants'));
  if (tenantEntries === undefined) {
    out.error('tenants', TOP, 'no-tenants', 'no tenants/ folder: add tenants/<slug>.yaml for each Microsoft 365 tenant');
  }
  const tenantFiles: string[] = [];
  for (const e of tenantEntries ?? []) {
    if (e.name.startsWith('.')) continue;
    const file = `tenants/${e.name}`;
    if (!e.isFile || !e.name.endsWith('.yaml')) {
      out.warn(file, TOP, 'ignored-file', e.name.endsWith('.yml')
        ? `ignored: tenant files must end in .yaml; rename it to tenants/${e.name.slice(0, -4)}.yaml`
        : 'ignored: tenants/ holds <slug>.yaml files only');
      continue;
    }
    tenantFiles.push(file);
  }
  if (tenantEntries !== undefined && tenantFiles.length === 0) {
    out.error('tenants', TOP, 'no-tenants', 'tenants/ has no <slug>.yaml file: add one per Microsoft 365 tenant');
  }

  const parsed = await Promise.all(tenantFiles.map(async (file) => {
    const text = await readTextFile(join(abs, file), file, MAX_FILE_BYTES, out);
    if (text === undefined) return undefined;
    const y = parseYaml(text, file, out, { positions: true });
    if (!y) return undefined;
    return { y, valid: validateSchema(y, 'tenant', out) };
  }));

  // Schema-invalid tenants are still built (defensively) so that the cross-file checks can
  // report their other problems in the same run; they never reach a ConfigRepo.
  let allTenantsValid = tenantEntries !== undefined;
  const tenants: LoadedTenant[] = [];
  for (let i = 0; i < tenantFiles.length; i++) {
    const p = parsed[i];
    const file = tenantFiles[i]!;
    const slug = file.slice('tenants/'.length, -'.yaml'.length);
    if (!SLUG.test(slug)) {
      out.error(file, TOP, 'invalid-slug', `tenant file name '${slug}.yaml' must be lower-case letters, digits, '-' or '_' (the name is the tenant's slug)`);
      allTenantsValid = false;
      continue;
    }
    if (!p || !p.valid) allTenantsValid = false;
    if (!p || p.y.data === null || typeof p.y.data !== 'object' || Array.isArray(p.y.data)) continue;
    tenants.push(tenantFromData(slug, p.y, p.valid));
  }

  // ---- directories -----------------------------------------------------------------------
  const directoryCache = new Map<string, Promise<LoadedDirectory | undefined>>();
  const loadDirectory = (file: string): Promise<LoadedDirectory | undefined> => {
    let p = directoryCache.get(file);
    if (!p) {
      p = (async () => {
        const text = await readTextFile(join(abs, file), file, MAX_DIRECTORY_BYTES, out);
        if (text === undefined) return undefined;
        const y = parseYaml(text, file, out, { positions: false });
        if (!y) return undefined;
        const valid = validateSchema(y, 'directory', out);
        const raw = (y.data ?? {}) as { users?: unknown };
        const users = Array.isArray(raw.users)
          ? raw.users.map((u) => (u !== null && typeof u === 'object' && !Array.isArray(u) ? (u as Record<string, unknown>) : {}))
          : [];
        const data: DirectoryFileData = { users };
        const { directory, duplicates } = directoryFromData(data);
        for (const d of duplicates) {
          const first = y.positionAt(['users', d.firstIndex, 'email']);
          out.error(file, y.positionAt(['users', d.index, 'email']), 'duplicate-user',
            `user ${d.email} is listed twice (first at line ${first.line}); keep one entry per address`);
        }
        if (!valid) return undefined;
        const attributes = new Set<string>(['email', 'displayName', 'memberOf']);
        for (const u of data.users) for (const k of Object.keys(u)) attributes.add(k);
        return { directory, yaml: y, data, attributes };
      })();
      directoryCache.set(file, p);
    }
    return p;
  };
  const tenantDirectories = new Map<string, LoadedDirectory | undefined>();
  await Promise.all(tenants.map(async ({ tenant, yaml, directoryKnown }) => {
    if (!directoryKnown) return;
    const src = tenant.directory;
    const file = src.source === 'file' ? src.file : src.snapshot;
    if (!(await isFileInside(abs, join(abs, file)))) {
      if (src.source === 'file') {
        out.error(tenant.file, yaml.positionAt(['directory', 'file']), 'directory-missing',
          `directory file ${file} does not exist in the config repository: create it (see schemas/directory.schema.json) or fix the path`);
      } else {
        out.warn(tenant.file, yaml.positionAt(['directory']), 'snapshot-missing',
          `no Graph snapshot at ${file} yet: run \`sigops directory sync --tenant ${tenant.slug}\`; until then senders get only their name and address`);
      }
      tenantDirectories.set(tenant.slug, undefined);
      return;
    }
    tenantDirectories.set(tenant.slug, await loadDirectory(file));
  }));

  // ---- across files ----------------------------------------------------------------------
  checkUniqueness(tenants, out);
  const used = new Set<string>();
  for (const lt of tenants) checkRules(lt, templates, tenantDirectories.get(lt.tenant.slug), used, out);

  // Users whose address is outside the tenant's domains can never be matched.
  for (const { tenant, valid } of tenants) {
    const d = tenantDirectories.get(tenant.slug);
    if (!d || !valid) continue;
    const domains = new Set(tenant.domains);
    d.data.users.forEach((u, i) => {
      const email = String(u.email ?? '').toLowerCase();
      const domain = email.slice(email.lastIndexOf('@') + 1);
      if (email !== '' && !domains.has(domain)) {
        out.warn(d.yaml.file, d.yaml.positionAt(['users', i, 'email']), 'user-outside-domains',
          `user ${email} is not in the domains of tenant ${tenant.slug} (${tenant.domains.join(', ')}); their mail is never signed with these attributes`);
      }
    });
  }

  // Template variables that no directory user of any tenant using the template has.
  for (const t of templates.values()) {
    if (!t.valid) continue;
    if (!used.has(t.name)) {
      if (!allTenantsValid) continue; // a broken tenant file may be the one using it
      out.warn(t.htmlFile!, TOP, 'unused-template', `template '${t.name}' is not used by any rule; reference it from a rule or remove it`);
      continue;
    }
    const known = new Set<string>(['email', 'displayName', 'memberOf']);
    let complete = true;
    let anyUsers = false;
    for (const { tenant } of tenants) {
      if (!tenant.rules.some((r) => r.signature === t.name || r.banner === t.name || r.disclaimer === t.name)) continue;
      const d = tenantDirectories.get(tenant.slug);
      if (!d) { complete = false; continue; }
      if (d.directory.users.size > 0) anyUsers = true;
      for (const a of d.attributes) known.add(a);
    }
    if (!complete || !anyUsers) continue;
    const reported = new Set<string>();
    for (const v of t.variables as (TemplateVariable & { file: string })[]) {
      if (known.has(v.attribute) || reported.has(`${v.file}:${v.attribute}`)) continue;
      reported.add(`${v.file}:${v.attribute}`);
      out.warn(v.file, v, 'unknown-template-variable',
        `no directory user has '${v.attribute}'${suggestion(v.attribute, known)}, so user.${v.attribute} is always empty; add it to the directory or fix the name`);
    }
  }

  return finish(() => {
    const templateMap = new Map<string, Template>();
    for (const t of [...templates.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      templateMap.set(t.name, Object.freeze({
        name: t.name,
        html: t.html!,
        htmlFile: t.htmlFile!,
        ...(t.text !== undefined ? { text: t.text, textFile: t.textFile! } : {}),
      }));
    }
    const directories = new Map<string, Directory>();
    for (const { tenant } of tenants) {
      directories.set(tenant.slug, tenantDirectories.get(tenant.slug)?.directory ?? Object.freeze({ users: new Map() }));
    }
    return Object.freeze({
      root: abs,
      tenants: Object.freeze(tenants.filter((t) => t.valid).map((t) => t.tenant)),
      templates: templateMap,
      directories,
    });
  });
}

function parseHostPort(s: string): HostPort {
  const m = /^(.*?)(?::(\d+))?$/.exec(s);
  const port = m?.[2] === undefined ? 25 : Number(m[2]);
  return { host: (m?.[1] ?? s).toLowerCase(), port };
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Strings of a string-or-list value; anything else is dropped (the schema reports it). */
function strings(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return undefined;
}

const ATTRIBUTE_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DIRECTORY_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+\.yaml$/;

function validDate(s: string | undefined): s is string {
  if (s === undefined || !DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/**
 * Builds the Tenant model. For schema-valid data this is exact; for invalid data it is a
 * best effort (wrong types dropped) used only to run the cross-file checks.
 */
function tenantFromData(slug: string, y: YamlFile, valid: boolean): LoadedTenant {
  const d = obj(y.data);
  const file = y.file;
  const ex = obj(d.exchange);
  const sendersRaw = ex.senders ?? 'all';
  const group = str(obj(sendersRaw).memberOf);
  const senders: SenderScope = group !== undefined ? { kind: 'memberOf', group: group.toLowerCase() } : { kind: 'all' };
  const dir = obj(d.directory);
  const dirFile = str(dir.file);
  const snapshot = str(dir.snapshot) ?? `directory/${slug}.graph.yaml`;
  const directory: DirectorySource = dir.source === 'graph'
    ? { source: 'graph', snapshot }
    : { source: 'file', file: dirFile ?? '' };
  const directoryKnown = valid || (dir.source === 'file' && dirFile !== undefined && DIRECTORY_PATH.test(dirFile)) ||
    (dir.source === 'graph' && DIRECTORY_PATH.test(snapshot));
  const rawRules = Array.isArray(d.rules) ? d.rules : [];
  const rules: Rule[] = rawRules.map((item, i) => {
    const r = obj(item);
    const when = obj(r.when);
    const attributes = Object.create(null) as Record<string, readonly string[]>;
    for (const [k, v] of Object.entries(when)) {
      if (CONDITION_KEYS.has(k) || !ATTRIBUTE_KEY.test(k)) continue;
      const list = strings(v);
      if (list) attributes[k] = list;
    }
    const between = obj(when.between);
    const from = str(between.from);
    const until = str(between.until);
    const recipients = when.recipients === 'internal' || when.recipients === 'external' ? when.recipients : 'any';
    const sendersList = strings(when.senders);
    const memberOf = strings(when.memberOf);
    const recipientDomains = strings(when.recipientDomains);
    const condition: RuleCondition = {
      attributes,
      ...(sendersList ? { senders: sendersList.map((s) => s.toLowerCase()) } : {}),
      ...(memberOf ? { memberOf: memberOf.map((s) => s.toLowerCase()) } : {}),
      recipients,
      ...(recipientDomains ? { recipientDomains: recipientDomains.map((s) => s.toLowerCase()) } : {}),
      ...(validDate(from) && validDate(until) ? { between: { from, until } } : {}),
    };
    const position: SourcePosition = { file, ...y.positionAt(['rules', i]) };
    const role = (k: string) => {
      const v = str(r[k]);
      return v !== undefined && TEMPLATE_NAME.test(v) ? { [k]: v } : {};
    };
    return {
      name: str(r.name) ?? `#${i + 1}`,
      when: condition,
      ...role('signature'),
      ...role('banner'),
      ...role('disclaimer'),
      placement: r.placement === 'bottom' ? 'bottom' : 'reply',
      position,
    };
  });
  const tenant: Tenant = {
    slug,
    id: (str(d.id) ?? '').toLowerCase(),
    name: str(d.name) ?? slug,
    domains: (strings(d.domains) ?? []).map((x) => x.toLowerCase()),
    enabled: d.enabled !== false,
    exchange: {
      smartHost: (str(ex.smartHost) ?? '').toLowerCase(),
      certificateDomain: (str(ex.certificateDomain) ?? '').toLowerCase(),
      deliverTo: parseHostPort(str(ex.deliverTo) ?? ''),
      senders,
      internal: ex.internal === true,
    },
    directory,
    rules,
    file,
  };
  return { tenant: deepFreeze(tenant), yaml: y, data: d, valid, directoryKnown };
}

function checkUniqueness(tenants: readonly LoadedTenant[], out: Collector): void {
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

function checkRules(
  lt: LoadedTenant,
  templates: ReadonlyMap<string, TemplateSource>,
  directory: LoadedDirectory | undefined,
  used: Set<string>,
  out: Collector,
): void {
  const { tenant, yaml } = lt;
  const file = tenant.file;
  // Warnings about a tenant that does not pass the schema would be guesses: errors only.
  const warnOut = lt.valid ? out : { warn: () => undefined };
  const at = (...path: (string | number)[]) => yaml.positionAt(path);
  const keyAt = (path: (string | number)[], key: string): { line: number; col: number } => yaml.positionAt(path, key);
  const names = new Map<string, number>();
  const domains = new Set(tenant.domains);
  const knownAttributes = new Set<string>([...STANDARD_ATTRIBUTES, ...(directory?.attributes ?? [])]);
  knownAttributes.delete('memberOf');
  const groups = new Set<string>();
  if (directory) for (const u of directory.directory.users.values()) for (const g of u.memberOf) groups.add(g);
  let catchAll: string | undefined;

  const scope = tenant.exchange.senders;
  if (scope.kind === 'memberOf' && directory && directory.directory.users.size > 0 && !groups.has(scope.group)) {
    warnOut.warn(file, at('exchange', 'senders', 'memberOf'), 'unknown-group',
      `no directory user is a member of ${scope.group}${suggestion(scope.group, groups)}, so Exchange would route nobody's mail through sigops; check the group address`);
  }

  tenant.rules.forEach((rule, i) => {
    const seen = names.get(rule.name.toLowerCase());
    if (seen !== undefined) {
      out.error(file, at('rules', i, 'name'), 'duplicate-rule',
        `rule name '${rule.name}' is already used by rule '${tenant.rules[seen]!.name}' (line ${tenant.rules[seen]!.position.line}); rule names must be unique within a tenant, ignoring case`);
    } else {
      names.set(rule.name.toLowerCase(), i);
    }
    if (catchAll !== undefined) {
      warnOut.warn(file, at('rules', i), 'unreachable-rule',
        `rule '${rule.name}' can never apply: rule '${catchAll}' before it matches every message; move it above '${catchAll}'`);
    }

    for (const role of ROLES) {
      const name = rule[role];
      if (name === undefined) continue;
      used.add(name);
      const t = templates.get(name);
      if (!t || !t.htmlFile) {
        out.error(file, at('rules', i, role), 'template-not-found',
          `${role} template '${name}' not found${suggestion(name, templates.keys())}: add templates/${name}.html.hbs or fix the name`);
      }
    }

    const w = rule.when;
    const whenPath = ['rules', i, 'when'];
    if (w.between) {
      if (w.between.from > w.between.until) {
        out.error(file, at(...whenPath, 'between', 'until'), 'date-order',
          `between.until ${w.between.until} is before between.from ${w.between.from}; the window would never be open — swap or fix the dates`);
      }
    }
    if (w.senders) {
      w.senders.forEach((s, j) => {
        const domain = s.slice(s.lastIndexOf('@') + 1);
        if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s) && !domains.has(domain)) {
          const p = Array.isArray((lt.data.rules as Record<string, Record<string, unknown>>[])[i]?.when?.senders)
            ? at(...whenPath, 'senders', j) : at(...whenPath, 'senders');
          out.error(file, p, 'sender-outside-domains',
            `sender ${s} is not in this tenant's domains (${tenant.domains.join(', ')}), so the rule could never match it; fix the address or add the domain`);
        }
      });
    }
    for (const attr of Object.keys(w.attributes)) {
      if (!knownAttributes.has(attr)) {
        out.error(file, keyAt(whenPath, attr), 'unknown-attribute',
          `rule '${rule.name}': '${attr}' is neither a condition (senders, memberOf, recipients, recipientDomains, between) nor a directory attribute${suggestion(attr, [...CONDITION_KEYS, ...knownAttributes])}; fix the key or add the attribute to the directory`);
      }
    }
    if (w.memberOf && directory && directory.directory.users.size > 0) {
      w.memberOf.forEach((g, j) => {
        if (!groups.has(g)) {
          const p = Array.isArray((lt.data.rules as Record<string, Record<string, unknown>>[])[i]?.when?.memberOf)
            ? at(...whenPath, 'memberOf', j) : at(...whenPath, 'memberOf');
          warnOut.warn(file, p, 'unknown-group', `no directory user is a member of ${g}${suggestion(g, groups)}; the condition matches nobody yet`);
        }
      });
    }
    if (w.recipients === 'internal') {
      if (!tenant.exchange.internal) {
        warnOut.warn(file, at(...whenPath, 'recipients'), 'rule-never-matches',
          `recipients: internal never matches while exchange.internal is false (Exchange routes only mail to outside recipients through sigops); set exchange.internal: true or remove the condition`);
      }
      const outside = (w.recipientDomains ?? []).filter((dm) => !domains.has(dm) && ![...domains].some((t) => dm.endsWith(`.${t}`)));
      if (outside.length > 0) {
        out.error(file, at(...whenPath, 'recipientDomains'), 'contradictory-condition',
          `recipients: internal cannot hold for ${outside.join(', ')}, outside this tenant's domains; the rule could never match — remove one of the two conditions`);
      }
    }
    const conditionKeys = Object.keys(w.attributes).length + (w.senders ? 1 : 0) + (w.memberOf ? 1 : 0) +
      (w.recipients !== 'any' ? 1 : 0) + (w.recipientDomains ? 1 : 0) + (w.between ? 1 : 0);
    if (conditionKeys === 0 && catchAll === undefined) catchAll = rule.name;
  });
}
