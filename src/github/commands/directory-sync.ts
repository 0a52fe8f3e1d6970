// `directory-sync`: the scheduled refresh of Graph directory snapshots. Syncs one tenant (input
// `tenant`) or every `directory.source: graph` tenant into the checkout, and when a snapshot
// differs from the checked-out branch, proposes it in ONE pull request from the sync's own
// branch (sigops/directory-sync/<slug>, or …/all): opened the first time, its branch
// force-pushed and its description rewritten on later changes, left alone when nothing changed,
// closed when the branch caught up with the directory by other means. A person (or an
// auto-merge rule) merges it after the plan check ran on it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSkipped, type SyncResult } from '../../directory/index.ts';
import type { Tenant } from '../../model/index.ts';
import { closeDirectoryPullRequest, publishDirectoryPullRequest, type DirectoryPullRequestTarget, type SnapshotFile } from '../directory-pull-request.ts';
import { ActionInputError, getInput } from '../env.ts';
import { COMMENT_LIMIT, fitMarkdown, inline } from '../markdown.ts';
import { EXIT, load, withAdvice, type Run } from './context.ts';

/** First line of the pull request's description: how a person (or a rule) recognises it. */
export const DIRECTORY_SYNC_MARKER = '<!-- sigops:directory-sync -->';
/** Addresses listed per kind of change and tenant; the rest is counted. */
const LISTED = 200;

export const DIRECTORY_SYNC_BRANCH_PREFIX = 'sigops/directory-sync/';

interface TenantSync {
  readonly tenant: Tenant;
  readonly result: SyncResult;
  /** Repository-relative path of the snapshot. */
  readonly path: string;
}

export async function doDirectorySync(run: Run): Promise<number> {
  const loaded = await load(run);
  if (!loaded.ok) return EXIT.failed;
  const config = loaded.config;
  const slug = getInput(run.env, 'tenant');
  const graphTenants = config.tenants.filter((t) => t.directory.source === 'graph');
  let tenants: Tenant[];
  if (slug !== undefined) {
    const t = config.tenants.find((x) => x.slug === slug);
    if (!t) throw new ActionInputError(`no tenant '${slug}' in ${run.configDir} (tenants: ${config.tenants.map((x) => x.slug).join(', ') || 'none'})`, 'tenant');
    if (t.directory.source !== 'graph') {
      throw new ActionInputError(`tenant ${slug} reads its directory from ${t.directory.file}, not from Microsoft Graph: nothing to sync`, 'tenant');
    }
    tenants = [t];
  } else {
    tenants = graphTenants;
  }
  if (tenants.length === 0) {
    run.out('sigops: no tenant has `directory: { source: graph }`: nothing to sync');
    await run.summary.write('### sigops directory sync\n\nNo tenant reads its directory from Microsoft Graph: nothing to sync.\n');
    await run.setOutput('has-changes', 'false');
    return EXIT.ok;
  }
  const target = pullRequestTarget(run, slug);

  const synced: TenantSync[] = [];
  let failed = 0;
  for (const tenant of tenants) {
    try {
      const result = await run.services.syncDirectory(config, tenant);
      const path = run.configDir === '.' ? result.file : `${run.configDir}/${result.file}`;
      synced.push({ tenant, result, path });
      const c = result.changes;
      run.out(
        `sigops: ${tenant.slug}: ${result.users} users, ${result.groups} mail-enabled groups read; ` +
          (result.written ? `${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed` : `same as ${target.base}`),
      );
      if (result.written) {
        for (const e of c.added) run.out(`  + ${e}`);
        for (const e of c.removed) run.out(`  - ${e}`);
        for (const x of c.changed) run.out(`  ~ ${x.email} (${x.fields.join(', ')})`);
      }
      for (const w of result.warnings) run.annotate({ level: 'warning', title: `sigops directory sync: ${tenant.slug}`, message: w });
    } catch (err) {
      // One tenant's failure (permissions, Graph down) does not hold back the others' changes.
      failed++;
      run.annotate({ level: 'error', title: `sigops directory sync: ${tenant.slug}`, message: withAdvice(run.services.describeError(err)) });
    }
  }

  const changed = synced.filter((s) => s.result.written);
  const gh = run.github();
  if (changed.length === 0) {
    await run.setOutput('has-changes', 'false');
    // The base already holds what Graph says, so a pull request still open proposes something
    // stale: closed. Not when a tenant failed (its part of that pull request may still stand).
    const closed =
      failed === 0
        ? await closeDirectoryPullRequest(
            gh,
            target,
            `${DIRECTORY_SYNC_MARKER}\nClosed by the directory sync${run.ctx.runUrl ? ` ([run](${run.ctx.runUrl}))` : ''}: \`${target.base}\` already holds the directory as Microsoft Graph lists it now.`,
          )
        : undefined;
    run.out(`sigops: no directory changes${closed ? `; closed the outdated pull request #${closed.number}` : ''}`);
    await run.summary.write(
      `### sigops directory sync\n\nNo changes: the snapshots on \`${target.base}\` match Microsoft Graph.${closed ? ` Closed the outdated pull request #${closed.number}.` : ''}\n`,
    );
    return failed ? EXIT.failed : EXIT.ok;
  }

  const files: SnapshotFile[] = [];
  for (const s of synced) files.push({ path: s.path, content: await readFile(join(run.configRoot, ...s.result.file.split('/'))), changed: s.result.written });
  const body = pullRequestBody(synced, target, run.ctx.runUrl);
  const counts = changed.map((s) => `${s.tenant.slug} ${countLine(s.result)}`).join(', ');
  const pr = await publishDirectoryPullRequest(gh, target, {
    title: `Directory sync from Microsoft Graph: ${counts}`,
    body,
    commitMessage: `directory sync: ${counts}\n\nRefreshed from Microsoft Graph by the sigops action${run.ctx.runUrl ? ` (${run.ctx.runUrl})` : ''}.`,
    files,
  });
  run.out(`sigops: pull request #${pr.number} ${pr.action === 'unchanged' ? 'already proposes these changes' : pr.action} (${pr.url})`);
  await run.setOutput('has-changes', 'true');
  await run.setOutput('pull-request-number', String(pr.number));
  await run.setOutput('pull-request-url', pr.url);
  await run.summary.write(body.slice(DIRECTORY_SYNC_MARKER.length + 1));
  return failed ? EXIT.failed : EXIT.ok;
}

/** Where the pull request goes: into the branch the run checked out, from the sync's own branch. */
function pullRequestTarget(run: Run, slug: string | undefined): DirectoryPullRequestTarget {
  const ref = run.ctx.ref;
  const repository = run.ctx.payload.repository as { default_branch?: unknown } | undefined;
  const base = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : typeof repository?.default_branch === 'string' ? repository.default_branch : undefined;
  if (!base) throw new ActionInputError(`the run is not on a branch (GITHUB_REF=${ref ?? 'unset'}): the directory sync proposes its changes to a branch`);
  if (!run.ctx.sha) throw new ActionInputError('GITHUB_SHA is not set: the directory sync needs the commit it checked out');
  return { owner: run.ctx.owner, repo: run.ctx.repo, base, baseSha: run.ctx.sha, branch: `${DIRECTORY_SYNC_BRANCH_PREFIX}${slug ?? 'all'}` };
}

function countLine(r: SyncResult): string {
  const c = r.changes;
  return `+${c.added.length} −${c.removed.length} ~${c.changed.length}`;
}

function listed(items: readonly string[]): string[] {
  const out = items.slice(0, LISTED).map((x) => `- ${x}`);
  if (items.length > LISTED) out.push(`- … and ${(items.length - LISTED).toLocaleString('en-US')} more`);
  return out;
}

/** The pull request's description: per tenant what changed, the warnings and what was left out. */
export function pullRequestBody(synced: readonly TenantSync[], target: DirectoryPullRequestTarget, runUrl?: string): string {
  const lines = [
    DIRECTORY_SYNC_MARKER,
    '### sigops directory sync',
    '',
    `Users and group memberships as Microsoft Graph lists them now, against \`${target.base}\`. ` +
      'Merging this pull request updates the snapshots the relay reads its directory from; the plan check on it shows what that changes.',
    '',
    '| tenant | snapshot | users | added | removed | changed |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const s of synced) {
    const c = s.result.changes;
    const cells = s.result.written ? [c.added.length, c.removed.length, c.changed.length].map(String) : ['—', '—', '—'];
    lines.push(`| \`${s.tenant.slug}\` | \`${s.path}\` | ${s.result.users.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const s of synced.filter((x) => x.result.written)) {
    const c = s.result.changes;
    lines.push(`<details><summary><code>${s.tenant.slug}</code>: ${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed</summary>`, '');
    if (c.added.length) lines.push('Added:', '', ...listed(c.added.map((e) => inline(e))), '');
    if (c.removed.length) lines.push('Removed:', '', ...listed(c.removed.map((e) => inline(e))), '');
    if (c.changed.length) lines.push('Changed:', '', ...listed(c.changed.map((x) => `${inline(x.email)}: ${x.fields.join(', ')}`)), '');
    lines.push('</details>', '');
  }
  const warnings = synced.flatMap((s) => s.result.warnings.map((w) => `- \`${s.tenant.slug}\`: ${w}`));
  if (warnings.length) lines.push('**Warnings**', '', ...warnings.slice(0, LISTED), '');
  const skipped = synced
    .map((s) => {
      const parts = describeSkipped(s.result.skipped);
      return parts.length ? `- \`${s.tenant.slug}\`: ${parts.join(', ')}` : '';
    })
    .filter(Boolean);
  if (skipped.length) lines.push('Left out:', '', ...skipped, '');
  if (runUrl) lines.push(`_Written by the sigops action in [this run](${runUrl}); the next sync rewrites this branch and this description._`);
  return fitMarkdown(lines.join('\n'), COMMENT_LIMIT, "a pull request's description is limited to 65,536 characters", 'The run log of the sync has every address.');
}
