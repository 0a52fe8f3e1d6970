// Tenants whose file was deleted from the config repo: their Entra id is recovered from git
// history (the file's content just before the deleting commit), so `apply --prune` can offboard them.
import { parse } from 'yaml';
import { simpleGit } from 'simple-git';
import { TENANT_CLOUDS, type Tenant } from '../model/index.ts';
import type { RemovedTenant } from './types.ts';

export interface HistoryResult {
  readonly removed: RemovedTenant[];
  readonly notices: string[];
}

export async function findRemovedTenants(root: string, present: readonly Tenant[]): Promise<HistoryResult> {
  const git = simpleGit(root);
  const notices: string[] = [];
  let isRepo = false;
  try {
    isRepo = await git.checkIsRepo();
  } catch {
    isRepo = false;
  }
  if (!isRepo) return { removed: [], notices: ['the config is not in a git repository: deleted tenants cannot be found'] };
  if ((await git.raw(['rev-parse', '--is-shallow-repository'])).trim() === 'true') {
    notices.push('the config repository is a shallow clone: deleted tenants may be missed (use fetch-depth: 0)');
  }
  let log: string;
  try {
    // Newest first; paths are relative to the top of the work tree. Renames are not deletions.
    log = await git.raw(['log', '--diff-filter=D', '--name-only', '--format=%x01%H', '--', 'tenants/*.yaml']);
  } catch {
    return { removed: [], notices }; // no commits yet
  }
  const presentSlugs = new Set(present.map((t) => t.slug));
  const presentIds = new Set(present.map((t) => t.id.toLowerCase()));
  const seen = new Set<string>();
  const removed: RemovedTenant[] = [];
  for (const block of log.split('\x01').slice(1)) {
    const [commit, ...files] = block.split('\n').map((l) => l.trim()).filter(Boolean);
    if (!commit) continue;
    for (const file of files) {
      const m = /(?:^|\/)tenants\/([^/]+)\.yaml$/.exec(file);
      if (!m?.[1]) continue;
      const slug = m[1];
      if (presentSlugs.has(slug) || seen.has(slug)) continue;
      seen.add(slug);
      let content: string;
      try {
        content = await git.show([`${commit}^:${file}`]);
      } catch {
        notices.push(`cannot read ${file} before ${commit.slice(0, 7)}: tenant "${slug}" is not offboarded`);
        continue;
      }
      const doc = safeParse(content);
      const id = typeof doc?.id === 'string' ? doc.id.toLowerCase() : undefined;
      if (!id) {
        notices.push(`${file} before ${commit.slice(0, 7)} has no id: tenant "${slug}" is not offboarded`);
        continue;
      }
      if (presentIds.has(id)) continue; // moved to another file: still managed there
      const cloud = TENANT_CLOUDS.find((c) => c !== 'global' && c === doc?.cloud);
      removed.push({ slug, tenantId: id, name: typeof doc?.name === 'string' ? doc.name : slug, ...(cloud ? { cloud } : {}), deletedIn: commit });
    }
  }
  return { removed: removed.sort((a, b) => (a.slug < b.slug ? -1 : 1)), notices };
}

function safeParse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
