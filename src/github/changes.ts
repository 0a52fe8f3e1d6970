// Which rules a pull request changed, so the plan comment can preview their signatures.
// GitHub gives the changed files (GET /pulls/{n}/files) and the base version of a file
// (GET /contents/{path}?ref=BASE), which works on the shallow merge checkout actions/checkout
// makes. A rule counts as changed when it is new or its YAML differs from the base's rule of the
// same name, when its tenant is new or its name or domains changed (templates see them), or when
// a template it uses changed. A directory file change alone previews nothing: the first matching
// user of each rule would rarely be the user that changed.
import { posix } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ConfigRepo, Rule, Tenant } from '../model/index.ts';
import { explainGitHubError, type GitHubClient } from './client.ts';

export interface ChangedFile {
  /** Path relative to the repository root. */
  readonly filename: string;
  readonly status: string;
  readonly previousFilename?: string;
}

export interface ChangedRule {
  readonly tenant: string; // slug
  readonly rule: string;
  /** Why it is considered changed, for the comment. */
  readonly why: string;
}

/** The base version of a repository file, undefined when it did not exist there. */
export type BaseReader = (repoPath: string) => Promise<string | undefined>;

function norm(p: string): string {
  return posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\//, '');
}

function templatesOf(rule: Rule): string[] {
  return [rule.signature, rule.banner, rule.disclaimer].filter((t): t is string => t !== undefined);
}

function rawRules(doc: unknown): Map<string, string> {
  const rules = (doc as { rules?: unknown } | null)?.rules;
  const out = new Map<string, string>();
  if (Array.isArray(rules)) {
    for (const r of rules) {
      const name = (r as { name?: unknown } | null)?.name;
      if (typeof name === 'string') out.set(name, JSON.stringify(r));
    }
  }
  return out;
}

function identity(doc: unknown): string {
  const d = (doc ?? {}) as { name?: unknown; domains?: unknown };
  return JSON.stringify([d.name, d.domains]);
}

/**
 * @param configDir the config directory relative to the repository root ("." for the root)
 */
export async function changedRules(
  config: ConfigRepo,
  configDir: string,
  files: readonly ChangedFile[],
  readBase: BaseReader,
): Promise<ChangedRule[]> {
  const changed = new Map(files.map((f) => [norm(f.filename), f]));
  const inRepo = (file: string): string => norm(posix.join(configDir.replace(/\\/g, '/'), file));
  const changedTemplates = new Set<string>();
  for (const f of changed.keys()) {
    const rel = posix.relative(inRepo('templates'), f);
    if (rel.startsWith('..') || rel.includes('/')) continue;
    const m = /^(.+)\.(?:html|txt)\.hbs$/.exec(rel);
    if (m) changedTemplates.add(m[1]!);
  }
  // an image changed: every template showing it changed with it
  for (const f of changed.keys()) {
    const rel = posix.relative(inRepo('images'), f);
    if (rel.startsWith('..') || rel.includes('/')) continue;
    const call = new RegExp(`\\{\\{~?\\s*image\\s+["']${rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']`);
    for (const t of config.templates.values()) if (call.test(t.html) || (t.text !== undefined && call.test(t.text))) changedTemplates.add(t.name);
  }

  const out: ChangedRule[] = [];
  for (const tenant of config.tenants) {
    const file = changed.get(inRepo(tenant.file));
    const perRule = new Map<string, string>();
    if (file) {
      await tenantFileChanges(tenant, config.root, file, readBase, perRule);
    }
    for (const rule of tenant.rules) {
      if (!perRule.has(rule.name)) {
        const t = templatesOf(rule).find((name) => changedTemplates.has(name));
        if (t !== undefined) perRule.set(rule.name, `template \`${t}\` changed`);
      }
    }
    for (const rule of tenant.rules) {
      const why = perRule.get(rule.name);
      if (why !== undefined) out.push({ tenant: tenant.slug, rule: rule.name, why });
    }
  }
  return out;
}

async function tenantFileChanges(
  tenant: Tenant,
  root: string,
  file: ChangedFile,
  readBase: BaseReader,
  perRule: Map<string, string>,
): Promise<void> {
  const all = (why: string): void => {
    for (const r of tenant.rules) perRule.set(r.name, why);
  };
  const baseText = file.status === 'added' ? undefined : await readBase(file.previousFilename ?? file.filename);
  if (baseText === undefined) return all('new tenant');
  let base: unknown;
  let head: unknown;
  try {
    base = parse(baseText);
  } catch {
    return all('tenant file changed');
  }
  try {
    head = parse(await readFile(posix.join(root.replace(/\\/g, '/'), tenant.file), 'utf8'));
  } catch {
    return all('tenant file changed');
  }
  if (identity(base) !== identity(head)) return all('tenant name or domains changed');
  const before = rawRules(base);
  const after = rawRules(head);
  for (const rule of tenant.rules) {
    const was = before.get(rule.name);
    if (was === undefined) perRule.set(rule.name, 'new rule');
    else if (was !== after.get(rule.name)) perRule.set(rule.name, 'rule changed');
  }
}

/** The changed files of a pull request, through every page. */
export async function pullRequestFiles(
  client: GitHubClient,
  t: { owner: string; repo: string; number: number },
): Promise<ChangedFile[]> {
  try {
    const files = await client.paginate(client.rest.pulls.listFiles, {
      owner: t.owner,
      repo: t.repo,
      pull_number: t.number,
      per_page: 100,
    });
    return files.map((f) => ({
      filename: f.filename,
      status: f.status,
      ...(f.previous_filename ? { previousFilename: f.previous_filename } : {}),
    }));
  } catch (err) {
    throw explainGitHubError(err, `list the files of pull request #${t.number}`, { permission: 'pull-requests: read' });
  }
}

/** Reads files at `ref` through the contents API; 404 means "not there". */
export function baseReader(client: GitHubClient, t: { owner: string; repo: string }, ref: string): BaseReader {
  return async (path) => {
    try {
      const { data } = await client.rest.repos.getContent({ owner: t.owner, repo: t.repo, path, ref });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return undefined;
      return Buffer.from(data.content, 'base64').toString('utf8');
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) return undefined;
      throw explainGitHubError(err, `read ${path} at ${ref.slice(0, 12)}`, { permission: 'contents: read' });
    }
  };
}
