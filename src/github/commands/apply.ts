// `apply` (push to the default branch, manual run): applies what the merged repository says,
// guarded by the checksum of the plan reviewed in the merged pull request.
import { PLAN_ERROR_CODE } from '../../plan/errors.ts';
import { mergedPlanChecksum } from '../comment.ts';
import { codeBlock } from '../markdown.ts';
import type { ApplyOutcome } from '../port.ts';
import { applyReport, headerLine, invalidConfigReport } from '../report.ts';
import { EXIT, load, pathMapper, type Run } from './context.ts';

export async function doApply(run: Run): Promise<number> {
  const result = await load(run);
  if (!result.ok) {
    await run.summary.write(invalidConfigReport(result.errors, result.warnings, pathMapper(run), run.header, false));
    return EXIT.failed;
  }
  let checksum: string | undefined;
  let reviewedIn: number | undefined;
  let checksumNote = 'no reviewed plan: the push is not a merged pull request';
  if (run.facts.kind === 'push') {
    try {
      const found = await mergedPlanChecksum(run.github(), run.ctx, run.facts.push.sha);
      checksum = found.checksum;
      reviewedIn = found.pullRequest;
      checksumNote = found.checksum ? found.note : `applied without a reviewed checksum: ${found.note}`;
    } catch (err) {
      // The checksum is a guard against applying something other than what was reviewed, not
      // the authorisation (merging is): without GitHub, apply what the merged repository says.
      const message = err instanceof Error ? err.message : String(err);
      run.annotate({ level: 'warning', title: 'sigops: reviewed plan not found', message });
      checksumNote = `applied without a reviewed checksum: ${message}`;
    }
  }
  run.out(`sigops: ${checksumNote}`);
  let outcome: ApplyOutcome;
  try {
    outcome = await run.services.apply(result.config, {
      prune: run.prune,
      force: run.force,
      ...(checksum ? { checksum } : {}),
    });
  } catch (err) {
    const d = run.services.describeError(err);
    let advice = d.advice;
    let current = '';
    // The two refusals get advice in the action's own terms (workflow runs, the `force` input).
    if (d.code === PLAN_ERROR_CODE.stalePlan) {
      advice =
        `The plan reviewed in ${reviewedIn !== undefined ? `pull request #${reviewedIn}` : 'the pull request'} is not what applying would do now: ` +
        'the repository or live Exchange changed after the review (another merge, or a change made in Exchange). Nothing was changed. ' +
        'Review the current plan below, then run the apply workflow by hand (workflow_dispatch), or open a pull request to review it there.';
      try {
        const now = await run.services.plan(result.config, { prune: run.prune });
        current = `#### What applying would do now\n\n${run.services.renderPlan(now, 'markdown')}`;
      } catch {
        // The refusal is the message; the current plan is a courtesy.
      }
    } else if (d.code === PLAN_ERROR_CODE.safetyLimit) {
      advice =
        'Nothing was changed. Review the plan, then apply once with the `force: true` input (or `sigops apply --force`).';
    }
    run.annotate({ level: 'error', title: 'sigops: apply refused', message: `${d.message}${advice ? ` ${advice}` : ''}` });
    await run.summary.write(
      ['### ❌ sigops apply refused', headerLine(run.header), codeBlock(d.message, 'text'), '', advice ?? '', '', current].join('\n'),
    );
    return EXIT.failed;
  }
  run.out(run.services.renderApplyReport(outcome.report, 'text'));
  await run.summary.write(
    applyReport(outcome.report, run.services.renderApplyReport(outcome.report, 'markdown'), checksumNote, run.header),
  );
  await run.setOutput('checksum', outcome.report.checksum);
  for (const t of outcome.report.tenants.filter((x) => x.outcome === 'failed')) {
    run.annotate({ level: 'error', title: `sigops: apply failed for ${t.slug}`, message: t.error?.message ?? 'see the job summary' });
  }
  return outcome.report.converged && outcome.report.tenants.every((t) => t.outcome !== 'failed') ? EXIT.ok : EXIT.failed;
}
