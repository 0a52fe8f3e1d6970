// `validate`: checks the configuration; on a pull request the result is the plan comment.
import { PLAN_MARKER } from '../comment.ts';
import { invalidConfigReport } from '../report.ts';
import { EXIT, invalidWarnings, load, pathMapper, publish, type Run } from './context.ts';

export async function doValidate(run: Run): Promise<number> {
  const result = await load(run);
  const path = pathMapper(run);
  let md: string;
  if (result.ok) {
    md = [
      '### ✅ sigops: the configuration is valid',
      '',
      `${result.config.tenants.length} tenant(s), ${result.config.templates.size} template(s).`,
      '',
      invalidWarnings(result.warnings, path),
    ].join('\n');
  } else {
    md = invalidConfigReport(result.errors, result.warnings, path, run.header, false);
  }
  if (run.facts.kind === 'pull_request') {
    const c = await publish(run, `${PLAN_MARKER}\n${md}`);
    if (!c.ok) return EXIT.failed;
  } else {
    await run.summary.write(md);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}
