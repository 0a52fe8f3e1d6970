// What every command of the action works with: the run's context (event, inputs, services,
// outputs) and the steps they share: loading the config, publishing the plan comment and summary.
import type { Annotation } from '../annotations.ts';
import { repoRelativePath } from '../annotations.ts';
import { GitHubApiError, type GitHubClient } from '../client.ts';
import { upsertPlanComment, withoutPlanMarkers } from '../comment.ts';
import type { GitHubContext } from '../env.ts';
import type { ActionCommand, EventFacts } from '../events.ts';
import type { LoadResult, SigopsServices } from '../port.ts';
import type { Diagnostic, ReportHeader } from '../report.ts';
import type { SummaryWriter } from '../summary.ts';
import type { ErrorSummary } from '../../errors/index.ts';

/** Exit codes: 0 ok, 1 error or invalid config, 2 drift found by a scheduled plan. */
export const EXIT = { ok: 0, failed: 1, drift: 2 } as const;

export interface Run {
  readonly ctx: GitHubContext;
  readonly facts: EventFacts;
  readonly command: ActionCommand;
  readonly env: Record<string, string | undefined>;
  readonly services: SigopsServices;
  readonly configRoot: string;
  /** The config directory relative to the repository root, posix. */
  readonly configDir: string;
  readonly summary: SummaryWriter;
  readonly header: ReportHeader;
  readonly prune: boolean;
  readonly force: boolean;
  readonly now: () => Date;
  out(line: string): void;
  annotate(a: Annotation): void;
  github(): GitHubClient;
  setOutput(name: string, value: string): Promise<void>;
}

/** The message and, unless the message already says it, the advice in brackets: one annotation line. */
export function withAdvice(d: ErrorSummary): string {
  return d.advice && !d.message.includes(d.advice) ? `${d.message} (${d.advice})` : d.message;
}

/** Loads the config and annotates its diagnostics on the YAML lines (repository-relative paths). */
export async function load(run: Run): Promise<LoadResult> {
  const result = await run.services.loadConfig(run.configRoot);
  const annotations = run.services.annotateDiagnostics(result.ok ? [] : result.errors, result.warnings, {
    root: run.configRoot,
    cwd: run.ctx.workspace,
  });
  if (annotations.trim()) run.out(annotations.trimEnd());
  if (result.ok) run.out(`sigops: configuration valid (${result.config.tenants.length} tenants)`);
  else run.out(`sigops: configuration invalid: ${result.errors.length} error(s)`);
  return result;
}

export function pathMapper(run: Run): (f: string) => string {
  return (f) => repoRelativePath(run.configDir, f);
}

export function invalidWarnings(warnings: readonly Diagnostic[], path: (f: string) => string): string {
  if (!warnings.length) return '';
  return ['**Warnings**', '', ...warnings.map((w) => `- \`${path(w.file)}:${w.line}:${w.col}\` ${w.message}`), ''].join('\n');
}

/** Writes the plan comment; a GitHub failure is reported, and decides the exit code only when it is not a fork's read-only token. */
async function comment(run: Run, markdown: string): Promise<{ ok: boolean; note?: string }> {
  if (run.facts.kind !== 'pull_request') return { ok: true };
  const pr = run.facts.pr;
  try {
    const r = await upsertPlanComment(
      run.github(),
      { owner: run.ctx.owner, repo: run.ctx.repo, number: pr.number, fromFork: pr.fromFork },
      markdown,
      run.ctx.runUrl ? `The [job summary](${run.ctx.runUrl}) has the full plan.` : undefined,
    );
    run.out(`sigops: plan comment ${r.action} (${r.url ?? r.id})${r.shortened ? ', shortened to fit GitHub\'s limit' : ''}`);
    if (r.url) await run.setOutput('comment-url', r.url);
    return { ok: true };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const forkReadOnly = err instanceof GitHubApiError && err.status === 403 && pr.fromFork;
    run.annotate({ level: forkReadOnly ? 'warning' : 'error', title: 'sigops: plan comment not written', message });
    return { ok: forkReadOnly, note: message };
  }
}

/** The comment on the pull request, then the same markdown (with a note if the comment failed) as job summary. */
export async function publish(run: Run, markdown: string): Promise<{ ok: boolean }> {
  const c = await comment(run, markdown);
  const body = withoutPlanMarkers(markdown);
  await run.summary.write(
    c.note ? `> [!WARNING]\n> The plan comment could not be written: ${c.note.replace(/\n/g, ' ')}\n\n${body}` : body,
  );
  return c;
}
