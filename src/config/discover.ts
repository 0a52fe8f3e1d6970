// Phase 1 of loading: which files the config repository holds (templates/, tenants/), and the
// file-system rules they must follow (names, kinds, links that stay inside the repository).
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { TOP, type Diagnostics } from './diagnostics.ts';

/** A template name: templates/<name>.html.hbs, and what rules refer to. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The files of one template. */
export interface TemplateFiles {
  readonly name: string;
  readonly htmlFile?: string;
  readonly textFile?: string;
}

export interface TenantFiles {
  /** There is a tenants/ folder. */
  readonly folder: boolean;
  /** tenants/<name>.yaml, sorted. */
  readonly files: readonly string[];
}

interface Entry {
  readonly name: string;
  readonly isFile: boolean;
}

/** The entries of a folder sorted by name, or undefined when there is no such folder. */
async function listDir(abs: string): Promise<Entry[] | undefined> {
  try {
    const entries = await readdir(abs, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, isFile: e.isFile() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

export async function isDirectory(abs: string): Promise<boolean> {
  return stat(abs).then((s) => s.isDirectory(), () => false);
}

/** A regular file inside `root` (a symbolic link may not lead out of the repository). */
export async function isFileInside(root: string, abs: string): Promise<boolean> {
  try {
    if (!(await stat(abs)).isFile()) return false;
    const [r, f] = await Promise.all([realpath(root), realpath(abs)]);
    return f.startsWith(r.endsWith(sep) ? r : r + sep);
  } catch {
    return false;
  }
}

/** The templates under templates/, in the order of their files. */
export async function discoverTemplates(root: string, out: Diagnostics): Promise<TemplateFiles[]> {
  const byName = new Map<string, { name: string; htmlFile?: string; textFile?: string }>();
  for (const e of (await listDir(join(root, 'templates'))) ?? []) {
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
    const t = byName.get(name) ?? { name };
    if (m[2] === 'html') t.htmlFile = file;
    else t.textFile = file;
    byName.set(name, t);
  }
  return [...byName.values()];
}

/** The tenant files under tenants/. */
export async function discoverTenants(root: string, out: Diagnostics): Promise<TenantFiles> {
  const entries = await listDir(join(root, 'tenants'));
  if (entries === undefined) {
    out.error('tenants', TOP, 'no-tenants', 'no tenants/ folder: add tenants/<slug>.yaml for each Microsoft 365 tenant');
    return { folder: false, files: [] };
  }
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const file = `tenants/${e.name}`;
    if (!e.isFile || !e.name.endsWith('.yaml')) {
      out.warn(file, TOP, 'ignored-file', e.name.endsWith('.yml')
        ? `ignored: tenant files must end in .yaml; rename it to tenants/${e.name.slice(0, -4)}.yaml`
        : 'ignored: tenants/ holds <slug>.yaml files only');
      continue;
    }
    files.push(file);
  }
  if (files.length === 0) {
    out.error('tenants', TOP, 'no-tenants', 'tenants/ has no <slug>.yaml file: add one per Microsoft 365 tenant');
  }
  return { folder: true, files };
}
