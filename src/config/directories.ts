// Phase 3 of loading: the directory each tenant names (a directory file, or a Graph snapshot
// written by `sigops directory sync`), read once per file however many tenants share it.
import { join } from 'node:path';
import type { Directory } from '../model/index.ts';
import { directoryFromData, type DirectoryFileData } from '../directory/index.ts';
import type { Diagnostics } from './diagnostics.ts';
import { isFileInside } from './discover.ts';
import { validateSchema } from './schema.ts';
import { MAX_DIRECTORY_BYTES, parseYaml, readTextFile, type YamlFile } from './source.ts';
import type { LoadedTenant } from './tenants.ts';

export interface LoadedDirectory {
  readonly directory: Directory;
  readonly yaml: YamlFile;
  readonly data: DirectoryFileData;
  /** Every attribute some user has, plus email, displayName and memberOf. */
  readonly attributes: ReadonlySet<string>;
}

/** By tenant slug; undefined for a tenant whose directory is missing or invalid. */
export type LoadedDirectories = ReadonlyMap<string, LoadedDirectory | undefined>;

async function readDirectory(root: string, file: string, out: Diagnostics): Promise<LoadedDirectory | undefined> {
  const source = await readTextFile(join(root, file), file, MAX_DIRECTORY_BYTES, out);
  if (source === undefined) return undefined;
  const y = parseYaml(source, file, out, { positions: false });
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
}

/** The directory of every tenant whose directory reference is usable. */
export async function readDirectories(root: string, tenants: readonly LoadedTenant[], out: Diagnostics): Promise<LoadedDirectories> {
  const byFile = new Map<string, Promise<LoadedDirectory | undefined>>();
  const read = (file: string): Promise<LoadedDirectory | undefined> => {
    let p = byFile.get(file);
    if (!p) {
      p = readDirectory(root, file, out);
      byFile.set(file, p);
    }
    return p;
  };
  const entries = await Promise.all(tenants.filter((t) => t.directoryKnown).map(async ({ tenant, yaml }) => {
    const src = tenant.directory;
    const file = src.source === 'file' ? src.file : src.snapshot;
    if (await isFileInside(root, join(root, file))) return [tenant.slug, await read(file)] as const;
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
