// Loading a config repository: read every file safely, parse YAML with positions, validate
// against the JSON Schemas, then check across files. Every problem is reported at once, each
// with file:line:col; warnings are kept apart from errors. The phases: discover the files
// (discover.ts), read templates, tenants and directories (templates.ts, tenants.ts,
// directories.ts), check across files (checks.ts); load() below runs them in that order.
import { resolve } from 'node:path';
import type { ConfigRepo, Directory, ImageAsset, Template } from '../model/index.ts';
import { CONDITIONS, type ConditionRegistry } from '../policy/conditions/index.ts';
import { checkAcrossFiles, type LoadedFiles } from './checks.ts';
import { Diagnostics, TOP } from './diagnostics.ts';
import { readDirectories } from './directories.ts';
import { discoverTemplates, discoverTenants, isDirectory } from './discover.ts';
import { ConfigError, ConfigInvalidError, type ConfigDiagnostic } from './errors.ts';
import { checkImages, readImages, type LoadedImage } from './images.ts';
import { readTemplates } from './templates.ts';
import { readTenants } from './tenants.ts';

export * from './errors.ts';
export type * from '../model/index.ts';
export { MAX_FILE_BYTES, MAX_DIRECTORY_BYTES, MAX_ALIAS_COUNT } from './source.ts';

export type LoadResult =
  | { readonly ok: true; readonly config: ConfigRepo; readonly warnings: ConfigDiagnostic[] }
  | { readonly ok: false; readonly errors: ConfigDiagnostic[]; readonly warnings: ConfigDiagnostic[] };

export interface LoadOptions {
  /** The rule conditions `when:` may use (tests register their own). */
  readonly conditions?: ConditionRegistry;
}

/** Loads and validates a config repository; throws ConfigInvalidError (with every error) when invalid. */
export async function loadValidConfig(root: string): Promise<{ config: ConfigRepo; warnings: ConfigDiagnostic[] }> {
  const r = await loadConfigRepo(root);
  if (!r.ok) throw new ConfigInvalidError(resolve(root), r.errors, r.warnings);
  return { config: r.config, warnings: r.warnings };
}

/** Reads, validates and cross-checks the config repository at `root`. Never throws. */
export async function loadConfigRepo(root: string, options: LoadOptions = {}): Promise<LoadResult> {
  try {
    return await load(resolve(root), options.conditions ?? CONDITIONS);
  } catch (err) {
    // A bug or an unreadable folder must not take the caller (the relay) down.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [new ConfigError('.', 1, 1, 'internal-error', `config could not be loaded: ${message}`)], warnings: [] };
  }
}

async function load(root: string, conditions: ConditionRegistry): Promise<LoadResult> {
  const out = new Diagnostics();
  if (!(await isDirectory(root))) {
    out.error('.', TOP, 'config-missing', `config directory ${root} does not exist; pass --config with the path of your config repository`);
    return { ok: false, errors: out.errors(), warnings: out.warnings() };
  }
  const [templateFiles, tenantFiles] = await Promise.all([discoverTemplates(root, out), discoverTenants(root, out)]);
  const [templates, tenants, images] = await Promise.all([
    readTemplates(root, templateFiles, out),
    readTenants(root, tenantFiles, conditions, out),
    readImages(root, out),
  ]);
  const files: LoadedFiles = { templates, tenants, directories: await readDirectories(root, tenants.tenants, out) };
  checkAcrossFiles(files, conditions, out);
  checkImages(images, templates, tenants.tenants, out);
  return out.hasErrors
    ? { ok: false, errors: out.errors(), warnings: out.warnings() }
    : { ok: true, config: configRepo(root, files, images), warnings: out.warnings() };
}

/** The ConfigRepo of a repository without errors: valid tenants, their directories, the templates by name. */
function configRepo(root: string, { templates, tenants, directories }: LoadedFiles, images: ReadonlyMap<string, LoadedImage>): ConfigRepo {
  const templateMap = new Map<string, Template>();
  for (const t of [...templates.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    templateMap.set(t.name, Object.freeze({
      name: t.name,
      html: t.html!,
      htmlFile: t.htmlFile!,
      ...(t.text !== undefined ? { text: t.text, textFile: t.textFile! } : {}),
    }));
  }
  const directoryMap = new Map<string, Directory>();
  for (const { tenant } of tenants.tenants) {
    directoryMap.set(tenant.slug, directories.get(tenant.slug)?.directory ?? Object.freeze({ users: new Map() }));
  }
  return Object.freeze({
    root,
    tenants: Object.freeze(tenants.tenants.filter((t) => t.valid).map((t) => t.tenant)),
    templates: templateMap,
    directories: directoryMap,
    images: new Map([...images.values()].flatMap((i): [string, ImageAsset][] => (i.asset ? [[i.name, i.asset]] : []))),
  });
}
