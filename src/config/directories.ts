// Phase 3 of loading: the directory each tenant names (a directory file, or a Graph snapshot
// written by `sigops directory sync`), read once per file however many tenants share it, with
// the tenant's hand-edited overrides (directory/<slug>.overrides.yaml) merged over it. An
// address claimed by two users is an error with both positions; an override for nobody a warning.
import { join } from 'node:path';
import { overridesFileOf, type Directory } from '../model/index.ts';
import { directoryFromData, mergeOverrides, type AddressClaim, type DirectoryFileData } from '../directory/index.ts';
import type { Diagnostics } from './diagnostics.ts';
import { isFileInside } from './discover.ts';
import { validateSchema } from './schema.ts';
import { MAX_DIRECTORY_BYTES, parseYaml, readTextFile, type YamlFile } from './source.ts';
import type { LoadedTenant } from './tenants.ts';

/** A directory-format file as read: its YAML (for positions) and its users. */
interface DirectoryFile {
  readonly yaml: YamlFile;
  readonly data: DirectoryFileData;
  readonly valid: boolean;
}

export interface LoadedDirectory {
  readonly directory: Directory;
  /** The directory file or snapshot (positions of users[i] in `data`). */
  readonly yaml: YamlFile;
  /** Its users, with the overrides merged in. */
  readonly data: DirectoryFileData;
  /** Every attribute some user has (overrides included), plus email, displayName and memberOf. */
  readonly attributes: ReadonlySet<string>;
  /** The overrides file merged in, if any: the attributes it sets, and its entry (users[j]) for users[i] of `data`. */
  readonly overrides?: { readonly file: string; readonly yaml: YamlFile; readonly attributes: ReadonlySet<string>; readonly entryOf: ReadonlyMap<number, number> };
}

/** By tenant slug; undefined for a tenant whose directory is missing or invalid. */
export type LoadedDirectories = ReadonlyMap<string, LoadedDirectory | undefined>;

async function readDirectoryFile(root: string, file: string, out: Diagnostics): Promise<DirectoryFile | undefined> {
  const source = await readTextFile(join(root, file), file, MAX_DIRECTORY_BYTES, out);
  if (source === undefined) return undefined;
  const y = parseYaml(source, file, out, { positions: false });
  if (!y) return undefined;
  const valid = validateSchema(y, 'directory', out);
  const raw = (y.data ?? {}) as { users?: unknown };
  const users = Array.isArray(raw.users)
    ? raw.users.map((u) => (u !== null && typeof u === 'object' && !Array.isArray(u) ? (u as Record<string, unknown>) : {}))
    : [];
  return { yaml: y, data: { users }, valid };
}

/** Builds one tenant's directory from its base file and its overrides (if any), reporting what does not fit. */
function buildDirectory(base: DirectoryFile, overrides: DirectoryFile | undefined, out: Diagnostics, reported: Set<string>): LoadedDirectory | undefined {
  const once = (kind: 'error' | 'warn', file: string, at: { line: number; col: number }, code: string, message: string): void => {
    const key = `${file}:${at.line}:${at.col}:${code}`;
    if (reported.has(key)) return;
    reported.add(key);
    out[kind](file, at, code, message);
  };
  const merged = overrides ? mergeOverrides(base.data, overrides.data) : undefined;
  const data = merged?.data ?? base.data;
  if (overrides && merged) {
    const where = base.yaml.file;
    for (const j of merged.unknown) {
      const email = String(overrides.data.users[j]?.email ?? '');
      once('warn', overrides.yaml.file, overrides.yaml.positionAt(['users', j, 'email']), 'override-unknown-user',
        `${email} is no user's address in ${where} (not in the directory, or not synced from Entra ID); this override is ignored until such a user exists`);
    }
    for (const r of merged.repeated) {
      const first = overrides.yaml.positionAt(['users', r.firstIndex, 'email']);
      once('error', overrides.yaml.file, overrides.yaml.positionAt(['users', r.index, 'email']), 'duplicate-override',
        `this user already has an override at line ${first.line}; keep one entry per user`);
    }
  }

  // Where a claim was written: in the overrides when they gave that user's aliases.
  const claimAt = (c: AddressClaim): { file: string; line: number; col: number } => {
    const j = merged?.overrideOf.get(c.index);
    if (c.alias !== undefined && j !== undefined && overrides && overrides.data.users[j]?.aliases !== undefined) {
      return { file: overrides.yaml.file, ...overrides.yaml.positionAt(['users', j, 'aliases', c.alias]) };
    }
    const path = c.alias === undefined ? ['users', c.index, 'email'] : ['users', c.index, 'aliases', c.alias];
    return { file: base.yaml.file, ...base.yaml.positionAt(path) };
  };
  const { directory, duplicates, conflicts } = directoryFromData(data);
  for (const d of duplicates) {
    const first = base.yaml.positionAt(['users', d.firstIndex, 'email']);
    once('error', base.yaml.file, base.yaml.positionAt(['users', d.index, 'email']), 'duplicate-user',
      `user ${d.email} is listed twice (first at line ${first.line}); keep one entry per address`);
  }
  for (const c of conflicts) {
    const here = claimAt(c.claim);
    const first = claimAt(c.first);
    const owner = String(data.users[c.first.index]?.email ?? '').toLowerCase();
    const firstWhere = first.file === here.file ? `line ${first.line}` : `${first.file}:${first.line}`;
    once('error', here.file, here, 'duplicate-address',
      `address ${c.address} already belongs to ${owner} (${c.first.alias === undefined ? 'its email' : 'an alias'}, at ${firstWhere}); an address may belong to one user only, so remove one of them`);
  }
  if (!base.valid || (overrides && !overrides.valid)) return undefined;
  const attributes = new Set<string>(['email', 'displayName', 'memberOf']);
  for (const u of data.users) for (const k of Object.keys(u)) if (k !== 'aliases') attributes.add(k);
  const overrideAttributes = new Set<string>();
  if (overrides) for (const u of overrides.data.users) for (const k of Object.keys(u)) if (k !== 'email') overrideAttributes.add(k);
  return {
    directory,
    yaml: base.yaml,
    data,
    attributes,
    ...(overrides && merged ? { overrides: { file: overrides.yaml.file, yaml: overrides.yaml, attributes: overrideAttributes, entryOf: merged.overrideOf } } : {}),
  };
}

/** The directory of every tenant whose directory reference is usable. */
export async function readDirectories(root: string, tenants: readonly LoadedTenant[], out: Diagnostics): Promise<LoadedDirectories> {
  const byFile = new Map<string, Promise<DirectoryFile | undefined>>();
  const read = (file: string): Promise<DirectoryFile | undefined> => {
    let p = byFile.get(file);
    if (!p) {
      p = readDirectoryFile(root, file, out);
      byFile.set(file, p);
    }
    return p;
  };
  const reported = new Set<string>();
  // Tenants sharing a directory file and its overrides (or having none) share one Directory.
  const built = new Map<string, LoadedDirectory | undefined>();
  const build = (file: string, base: DirectoryFile, overridesFile: string | undefined, overrides: DirectoryFile | undefined): LoadedDirectory | undefined => {
    const key = `${file}\u0000${overrides ? overridesFile : ''}`;
    if (!built.has(key)) built.set(key, buildDirectory(base, overrides, out, reported));
    return built.get(key);
  };
  const entries = await Promise.all(tenants.filter((t) => t.directoryKnown).map(async ({ tenant, yaml }) => {
    const src = tenant.directory;
    const file = src.source === 'file' ? src.file : src.snapshot;
    const overridesRef = overridesFileOf(tenant);
    const overridesExist = await isFileInside(root, join(root, overridesRef.file));
    if (overridesRef.explicit && !overridesExist) {
      out.error(tenant.file, yaml.positionAt(['directory', 'overrides']), 'overrides-missing',
        `overrides file ${overridesRef.file} does not exist in the config repository: create it (same format as a directory file) or fix the path`);
    }
    // An overrides file that is also the tenant's directory would merge a file over itself.
    const overrides = overridesExist && overridesRef.file !== file ? await read(overridesRef.file) : undefined;
    if (await isFileInside(root, join(root, file))) {
      const base = await read(file);
      return [tenant.slug, base ? build(file, base, overridesRef.file, overrides) : undefined] as const;
    }
    if (src.source === 'file') {
      out.error(tenant.file, yaml.positionAt(['directory', 'file']), 'directory-missing',
        `directory file ${file} does not exist in the config repository: create it (see schemas/directory.schema.json) or fix the path`);
    } else {
      out.warn(tenant.file, yaml.positionAt(['directory']), 'snapshot-missing',
        `no Graph snapshot at ${file} yet: run \`sigops directory sync --tenant ${tenant.slug}\`; until then senders get only their name and address`);
    }
    return [tenant.slug, undefined] as const;
  }));
  return new Map(entries);
}
