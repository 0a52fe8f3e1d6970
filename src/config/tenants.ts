// Phase 2 of loading, for tenants: read and validate each tenant file and build its Tenant
// model. A file that fails its schema is still built, as far as it goes, so that the
// cross-file checks can report its other problems in the same run; it never reaches a ConfigRepo.
import { join } from 'node:path';
import { MAILBOX_KINDS, TENANT_CLOUDS, type DirectorySource, type TenantImages, type MailboxKind, type HostPort, type Rule, type SenderScope, type SentItemsUpdate, type Tenant } from '../model/index.ts';
import type { ConditionRegistry } from '../policy/conditions/index.ts';
import { mapping, text, textList } from '../policy/conditions/values.ts';
import { TOP, type Diagnostics } from './diagnostics.ts';
import { TEMPLATE_NAME, type TenantFiles } from './discover.ts';
import { validateSchema } from './schema.ts';
import { MAX_FILE_BYTES, parseYaml, readTextFile, type YamlFile } from './source.ts';

export interface LoadedTenant {
  readonly tenant: Tenant;
  readonly yaml: YamlFile;
  readonly data: Record<string, unknown>;
  /** Passed the schema: only such tenants end up in a ConfigRepo. */
  readonly valid: boolean;
  /** The directory reference is usable (always, for a valid tenant). */
  readonly directoryKnown: boolean;
}

export interface LoadedTenants {
  readonly tenants: readonly LoadedTenant[];
  /** There is a tenants/ folder and every file in it is a valid tenant. */
  readonly allValid: boolean;
}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DIRECTORY_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+\.yaml$/;

function parseHostPort(s: string): HostPort {
  const m = /^(.*?)(?::(\d+))?$/.exec(s);
  const port = m?.[2] === undefined ? 25 : Number(m[2]);
  return { host: (m?.[1] ?? s).toLowerCase(), port };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

function ruleFromData(item: unknown, i: number, y: YamlFile, conditions: ConditionRegistry): Rule {
  const r = mapping(item);
  const role = (k: string) => {
    const v = text(r[k]);
    return v !== undefined && TEMPLATE_NAME.test(v) ? { [k]: v } : {};
  };
  return {
    name: text(r.name) ?? `#${i + 1}`,
    when: conditions.read(r.when),
    ...role('signature'),
    ...role('banner'),
    ...role('disclaimer'),
    placement: r.placement === 'bottom' ? 'bottom' : 'reply',
    ...(r.images === 'embedded' || r.images === 'hosted' ? { images: r.images } : {}),
    ...(r.plainText === 'html' || r.plainText === 'keep' ? { plainText: r.plainText } : {}),
    position: { file: y.file, ...y.positionAt(['rules', i]) },
  };
}

/** `images:` of a tenant file, when given. */
function imagesFromData(value: unknown): TenantImages | undefined {
  if (value === undefined) return undefined;
  const i = mapping(value);
  const baseUrl = text(i.baseUrl);
  return { mode: i.mode === 'hosted' ? 'hosted' : 'embedded', ...(baseUrl !== undefined ? { baseUrl } : {}) };
}

/** `sentItems:` as the model holds it; anything but an enabled update (with a scope or said to be unscoped) is off. */
function sentItemsFromData(value: unknown): SentItemsUpdate | undefined {
  const s = mapping(value);
  if (s.update !== true) return undefined;
  const scope = text(s.scope);
  if (scope !== undefined && scope.trim() !== '') return { update: true, scope: scope.trim() };
  if (s.unscoped === true) return { update: true, unscoped: true };
  return undefined;
}

/**
 * Builds the Tenant model. For schema-valid data this is exact; for invalid data it is a
 * best effort (wrong types dropped) used only to run the cross-file checks.
 */
export function tenantFromData(slug: string, y: YamlFile, valid: boolean, conditions: ConditionRegistry): LoadedTenant {
  const d = mapping(y.data);
  const ex = mapping(d.exchange);
  const group = text(mapping(ex.senders ?? 'all').memberOf);
  const senders: SenderScope = group !== undefined ? { kind: 'memberOf', group: group.toLowerCase() } : { kind: 'all' };
  const dir = mapping(d.directory);
  const dirFile = text(dir.file);
  const snapshot = text(dir.snapshot) ?? `directory/${slug}.graph.yaml`;
  const overridesFile = text(dir.overrides);
  const overrides = overridesFile !== undefined && DIRECTORY_PATH.test(overridesFile) ? { overrides: overridesFile } : {};
  const mailboxes = (textList(dir.mailboxes) ?? []).filter((m): m is MailboxKind => (MAILBOX_KINDS as readonly string[]).includes(m));
  const directory: DirectorySource = dir.source === 'graph'
    ? { source: 'graph', snapshot, ...overrides, ...(mailboxes.length ? { mailboxes: [...new Set(mailboxes)] } : {}) }
    : { source: 'file', file: dirFile ?? '', ...overrides };
  const directoryKnown = valid || (dir.source === 'file' && dirFile !== undefined && DIRECTORY_PATH.test(dirFile)) ||
    (dir.source === 'graph' && DIRECTORY_PATH.test(snapshot));
  const sentItems = sentItemsFromData(d.sentItems);
  const images = imagesFromData(d.images);
  const rules = (Array.isArray(d.rules) ? d.rules : []).map((item, i) => ruleFromData(item, i, y, conditions));
  const tenant: Tenant = {
    slug,
    id: (text(d.id) ?? '').toLowerCase(),
    name: text(d.name) ?? slug,
    domains: (textList(d.domains) ?? []).map((x) => x.toLowerCase()),
    enabled: d.enabled !== false,
    // Any other value is a schema error: read as global for the cross-file checks.
    cloud: TENANT_CLOUDS.find((c) => c === d.cloud) ?? 'global',
    exchange: {
      smartHost: (text(ex.smartHost) ?? '').toLowerCase(),
      certificateDomain: (text(ex.certificateDomain) ?? '').toLowerCase(),
      deliverTo: parseHostPort(text(ex.deliverTo) ?? ''),
      senders,
      internal: ex.internal === true,
    },
    directory,
    ...(sentItems ? { sentItems } : {}),
    ...(images ? { images } : {}),
    rules,
    file: y.file,
  };
  return { tenant: deepFreeze(tenant), yaml: y, data: d, valid, directoryKnown };
}

/** Reads every tenant file; the ones that cannot be read or parsed are reported and left out. */
export async function readTenants(root: string, found: TenantFiles, conditions: ConditionRegistry, out: Diagnostics): Promise<LoadedTenants> {
  const parsed = await Promise.all(found.files.map(async (file) => {
    const source = await readTextFile(join(root, file), file, MAX_FILE_BYTES, out);
    if (source === undefined) return undefined;
    const y = parseYaml(source, file, out, { positions: true });
    if (!y) return undefined;
    return { y, valid: validateSchema(y, 'tenant', out) };
  }));

  let allValid = found.folder;
  const tenants: LoadedTenant[] = [];
  found.files.forEach((file, i) => {
    const p = parsed[i];
    const slug = file.slice('tenants/'.length, -'.yaml'.length);
    if (!SLUG.test(slug)) {
      out.error(file, TOP, 'invalid-slug', `tenant file name '${slug}.yaml' must be lower-case letters, digits, '-' or '_' (the name is the tenant's slug)`);
      allValid = false;
      return;
    }
    if (!p || !p.valid) allValid = false;
    if (!p || p.y.data === null || typeof p.y.data !== 'object' || Array.isArray(p.y.data)) return;
    tenants.push(tenantFromData(slug, p.y, p.valid, conditions));
  });
  return { tenants, allValid };
}
