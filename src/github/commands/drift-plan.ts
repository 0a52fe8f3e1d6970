// `plan` outside a pull request (schedule, manual run): a drift check. The plan goes to the job
// summary; exit 2 when live Exchange differs from the repository.
import type { Plan } from '../../plan/types.ts';
import { withoutPlanMarkers } from '../comment.ts';
import { driftReport, failoverHeld, invalidConfigReport, planErrors, planFailedReport, planHasChanges } from '../report.ts';
import { EXIT, load, pathMapper, withAdvice, type Run } from './context.ts';

export async function doDriftPlan(run: Run): Promise<number> {
  const result = await load(run);
  if (!result.ok) {
    await run.summary.write(invalidConfigReport(result.errors, result.warnings, pathMapper(run), run.header, false));
    return EXIT.failed;
  }
  let plan: Plan;
  try {
    plan = await run.services.plan(result.config, { prune: run.prune });
  } catch (err) {
    const d = run.services.describeError(err);
    run.annotate({ level: 'error', title: 'sigops: plan failed', message: withAdvice(d) });
    await run.summary.write(withoutPlanMarkers(planFailedReport(d.message, d.advice, run.header)));
    return EXIT.failed;
  }
  const details = run.services.renderPlan(plan, 'markdown');
  run.out(run.services.renderPlan(plan, 'text'));
  await run.summary.write(driftReport(plan, details, run.header));
  await run.setOutput('checksum', plan.checksum);
  await run.setOutput('has-changes', String(planHasChanges(plan)));
  const held = failoverHeld(plan);
  if (held.length > 0) {
    run.annotate({
      level: 'warning',
      title: 'sigops: failover',
      message: `the routing rule is held disabled by failover in ${held.join(', ')} (relay fleet unhealthy): mail flows unsigned; see the job summary`,
    });
  }
  if (planErrors(plan).length) return EXIT.failed;
  if (planHasChanges(plan)) {
    const drifted = plan.tenants.filter((t) => t.changes.length).map((t) => t.slug);
    run.annotate({
      level: 'error',
      title: 'sigops: drift',
      message: `live Exchange differs from the repository in ${drifted.join(', ')}; see the job summary`,
    });
    return EXIT.drift;
  }
  return EXIT.ok;
}
