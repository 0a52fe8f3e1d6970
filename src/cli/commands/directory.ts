// `sigops directory sync`: refreshes a graph tenant's directory snapshot from Microsoft Graph.
import { reportError } from '../report.ts';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatDiagnostics, loadConfigRepo } from '../../config/index.ts';
import { DirectorySyncError, describeSkipped, directoryUse, graphTokenProvider, syncGraphSnapshot, type SyncResult } from '../../directory/index.ts';
import { credentialsFromEnv } from '../../entra/index.ts';

export function registerDirectory(program: Command): void {
  const directory = program.command('directory').description("keep tenants' directory data (user attributes, groups) up to date");
  directory
    .command('sync')
    .description("refresh a `directory.source: graph` tenant's snapshot from Microsoft Graph")
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .requiredOption('-t, --tenant <slug>', 'the tenant to sync (its tenants/<slug>.yaml has directory.source: graph)')
    .addHelpText(
      'after',
      `
Reads the tenant's enabled users (with their aliases, from proxyAddresses) and the mail-enabled
groups they belong to (nested groups included) and writes them, sorted, to the tenant's snapshot
file (directory.snapshot, default directory/<slug>.graph.yaml). Only the properties the tenant's
templates and rules use are read. With directory.mailboxes (shared, room, equipment) those
mailboxes are included too. Nothing is written when nothing changed, so the git diff stays empty.
Accounts, aliases and groups left out (no address, another domain, non-ASCII, duplicates,
unreadable members) are counted in the summary and named in warnings on stderr.

Credentials come from the environment, as for plan/apply: SIGOPS_CLIENT_ID with
SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE, or the GitHub Actions OIDC token. The app needs
the Microsoft Graph application permissions User.Read.All and GroupMember.Read.All (admin consent),
and MailboxSettings.Read for a tenant with directory.mailboxes.
The tenant's \`cloud:\` (global, gcc, gcc-high, dod, china) chooses the Graph and login hosts;
SIGOPS_GRAPH_URL and SIGOPS_LOGIN_URL override them (the token scope still follows the cloud).

Exit status: 0 synced (changed or not), 1 error.

Example:
  $ sigops directory sync --config . --tenant contoso && git diff --stat
`,
    )
    .action(async (opts: { config: string; tenant: string }) => {
      const root = resolve(opts.config);
      try {
        const loaded = await loadConfigRepo(root);
        if (!loaded.ok) {
          process.stderr.write(formatDiagnostics(loaded.errors, loaded.warnings, 'text', { root, cwd: process.cwd() }));
          throw new DirectorySyncError(
            'invalid-config',
            'the config repository is invalid; fix the errors above first',
            'If the errors are in a Graph snapshot (edited by hand?), delete that file and run the sync again: it is rewritten from Graph.',
          );
        }
        const { config } = loaded;
        const tenant = config.tenants.find((t) => t.slug === opts.tenant);
        if (!tenant) {
          const known = config.tenants.map((t) => t.slug).join(', ') || '(none)';
          throw new DirectorySyncError('unknown-tenant', `no tenant '${opts.tenant}' in ${root} (tenants: ${known})`);
        }
        if (tenant.directory.source !== 'graph') {
          // syncGraphSnapshot refuses too; checked here before asking for credentials.
          throw new DirectorySyncError(
            'not-graph',
            `tenant ${tenant.slug} has directory.source: file (${tenant.directory.file}); only graph tenants are synced`,
            `Edit ${tenant.directory.file} directly, or set \`directory: { source: graph }\` in ${tenant.file} to keep a Graph snapshot.`,
          );
        }
        // The tenant's cloud decides the login host, Graph's URL and the token scope.
        const tokens = graphTokenProvider({
          credentials: credentialsFromEnv(),
          ...(tenant.cloud ? { cloud: tenant.cloud } : {}),
          ...(process.env.SIGOPS_LOGIN_URL ? { loginUrl: process.env.SIGOPS_LOGIN_URL } : {}),
        });
        const result = await syncGraphSnapshot({
          root,
          tenant,
          previous: config.directories.get(tenant.slug),
          // Only the Graph properties the tenant's templates and rules use are read.
          use: directoryUse(tenant, config.templates),
          tokens,
          ...(process.env.SIGOPS_GRAPH_URL ? { graphUrl: process.env.SIGOPS_GRAPH_URL } : {}),
          validate: async (r) => {
            const check = await loadConfigRepo(r);
            return check.ok ? { ok: true } : { ok: false, errors: check.errors };
          },
        });
        process.stdout.write(summary(tenant.slug, result));
        for (const w of result.warnings) process.stderr.write(`sigops directory sync: warning: ${w}\n`);
        process.exitCode = 0;
      } catch (err) {
        reportError('directory sync', err);
        process.exitCode = 1;
      }
    });
}

function summary(slug: string, r: SyncResult): string {
  const c = r.changes;
  const lines = [
    `${slug}: ${r.file}: ${r.users} users${r.mailboxes ? ` (${r.mailboxes} shared/resource mailboxes)` : ''}, ${r.groups} mail-enabled groups read; ` +
      (r.written ? `${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed` : 'no changes (file left as it was)'),
  ];
  if (r.written) {
    for (const e of c.added) lines.push(`  + ${e}`);
    for (const e of c.removed) lines.push(`  - ${e}`);
    for (const x of c.changed) lines.push(`  ~ ${x.email} (${x.fields.join(', ')})`);
  }
  const left = describeSkipped(r.skipped);
  if (left.length) lines.push(`  skipped: ${left.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
