// `plan` on a pull request: signature previews of the changed rules (no Exchange needed), then
// the Exchange plan, both in the one plan comment whose checksum the apply on merge reads back.
import type { Plan } from '../../plan/types.ts';
import { changedRules, baseReader, pullRequestFiles } from '../changes.ts';
import { PLAN_MARKER } from '../comment.ts';
import { hasCredentials } from '../credentials.ts';
import { previewRules, renderPreviews, type RulePreview } from '../preview.ts';
import { invalidConfigReport, planErrors, planFailedReport, planHasChanges, planReport } from '../report.ts';
import { EXIT, invalidWarnings, load, pathMapper, publish, withAdvice, type Run } from './context.ts';

export async function doPullRequestPlan(run: Run): Promise<number> {
  if (run.facts.kind !== 'pull_request') throw new Error('unreachable');
  const pr = run.facts.pr;
  const result = await load(run);
  const path = pathMapper(run);
  if (!result.ok) {
    const md = invalidConfigReport(result.errors, result.warnings, path, run.header);
    await publish(run, md);
    return EXIT.failed;
  }
  const config = result.config;

  // Previews first: they need no Exchange access, so a fork's pull request still gets them.
  const notes: string[] = [];
  let previews: RulePreview[] = [];
  try {
    const policy = run.services.compilePolicy(config);
    const client = run.github();
    const files = await pullRequestFiles(client, { owner: run.ctx.owner, repo: run.ctx.repo, number: pr.number });
    const changed = await changedRules(
      config,
      run.configDir,
      files,
      baseReader(client, run.ctx, pr.baseSha ?? pr.baseRef ?? 'HEAD'),
    );
    previews = previewRules(config, policy, changed, run.now());
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    run.annotate({ level: 'warning', title: 'sigops: no signature previews', message });
    notes.push(`Signature previews unavailable: ${message}`);
  }

  if (!hasCredentials(run.env)) {
    const why = pr.fromFork
      ? 'This pull request comes from a fork, and GitHub gives such runs no secrets and no OIDC token, so Exchange cannot be read: the plan is skipped. The configuration is valid.'
      : 'No Exchange credentials: set the `client-id` input with `client-secret`, `client-certificate`, or `use-oidc: true` (and `permissions: id-token: write`).';
    run.annotate({ level: pr.fromFork ? 'warning' : 'error', title: 'sigops: plan skipped', message: why });
    const md = [
      PLAN_MARKER,
      `### ${pr.fromFork ? '⚠️' : '❌'} sigops: configuration valid, plan skipped`,
      '',
      `> ${why}`,
      '',
      invalidWarnings(result.warnings, path),
      ...notes.map((n) => `> ${n}\n`),
      renderPreviews(previews),
    ].join('\n');
    const c = await publish(run, md);
    return pr.fromFork && c.ok ? EXIT.ok : EXIT.failed;
  }

  let plan: Plan;
  try {
    plan = await run.services.plan(config, { prune: run.prune });
  } catch (err) {
    const d = run.services.describeError(err);
    run.annotate({ level: 'error', title: 'sigops: plan failed', message: withAdvice(d) });
    const md = planFailedReport(d.message, d.advice, run.header, renderPreviews(previews));
    await publish(run, md);
    return EXIT.failed;
  }
  const details = run.services.renderPlan(plan, 'markdown');
  const input = { plan, details, previews, header: run.header, notes, warnings: invalidWarnings(result.warnings, path) };
  const bad = planErrors(plan);
  for (const t of bad) {
    run.annotate({
      level: 'error',
      title: `sigops: tenant ${t.slug} not planned`,
      message: t.error ? withAdvice(t.error) : t.conflicts.map((c) => c.message).join('; '),
    });
  }
  const c = await publish(run, planReport(input));
  await run.setOutput('checksum', plan.checksum);
  await run.setOutput('has-changes', String(planHasChanges(plan)));
  run.out(`sigops: plan checksum ${plan.checksum}`);
  if (bad.length) return EXIT.failed;
  return c.ok ? EXIT.ok : EXIT.failed;
}
