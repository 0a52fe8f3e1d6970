// The action's flow: read what GitHub handed over, pick the command for the event, then
// validate / plan / apply through the sigops modules and report on the pull request, in
// annotations and in the job summary. Everything sigops-specific comes in through
// `SigopsServices` so this file only knows GitHub; github-action/src/main.ts wires the real ones.
import { appendFile, chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ConfigRepo } from '../model/index.ts';
import type { ApplyReport, Plan } from '../plan/types.ts';
import type { Policy } from '../policy/types.ts';
import { formatAnnotation, repoRelativePath, type Annotation } from './annotations.ts';
import { changedRules, baseReader, pullRequestFiles } from './changes.ts';
import { createClient, GitHubApiError, type GitHubClient } from './client.ts';
import { mergedPlanChecksum, upsertPlanComment } from './comment.ts';
import { ActionInputError, getBooleanInput, getInput, readContext, type Env, type GitHubContext } from './env.ts';
import { chooseCommand, eventFacts, type ActionCommand, type EventFacts } from './events.ts';
import { previewRules, renderPreviews, type RulePreview } from './preview.ts';
import {
  applyReport,
  driftReport,
  invalidConfigReport,
  planErrors,
  planFailedReport,
  planHasChanges,
  planReport,
  headerLine,
  type Diagnostic,
  type ReportHeader,
} from './report.ts';
import { codeBlock } from './markdown.ts';
import { stepSummary, type SummaryWriter } from './summary.ts';

export type LoadResult =
  | { readonly ok: true; readonly config: ConfigRepo; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly errors: readonly Diagnostic[]; readonly warnings: readonly Diagnostic[] };

export interface ApplyOutcome {
  /** The plan apply executed (for names in the report). */
  readonly plan?: Plan;
  readonly report: ApplyReport;
}

/** What the action needs from the rest of sigops. */
export interface SigopsServices {
  loadConfig(root: string): Promise<LoadResult>;
  compilePolicy(config: ConfigRepo): Policy;
  plan(config: ConfigRepo, options: { prune: boolean }): Promise<Plan>;
  renderPlan(plan: Plan, format: 'markdown' | 'text'): string;
  renderApplyReport(report: ApplyReport, format: 'markdown' | 'text'): string;
  /** Plans, refuses when `checksum` is given and differs, applies, re-plans. */
  apply(config: ConfigRepo, options: { prune: boolean; force: boolean; checksum?: string }): Promise<ApplyOutcome>;
  /** GitHub annotations (`::error file=…,line=…,col=…::`) of config diagnostics, paths relative to `cwd`. */
  annotateDiagnostics(
    errors: readonly Diagnostic[],
    warnings: readonly Diagnostic[],
    paths: { root: string; cwd: string },
  ): string;
  /** `{ message, advice }` of any error the services throw. */
  describeError(err: unknown): { name: string; message: string; advice?: string; code?: string };
}

export interface RunOptions {
  /** process.env in production. Credential inputs are mapped INTO it (SIGOPS_CLIENT_*). */
  readonly env: Record<string, string | undefined>;
  readonly services: SigopsServices;
  readonly write?: (text: string) => void;
  readonly now?: () => Date;
}

/** Exit codes: 0 ok, 1 error or invalid config, 2 drift found by a scheduled plan. */
export const EXIT = { ok: 0, failed: 1, drift: 2 } as const;

interface Run {
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

export async function runAction(options: RunOptions): Promise<number> {
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const out = (line: string): void => write(`${line}\n`);
  const annotate = (a: Annotation): void => out(formatAnnotation(a));
  try {
    const run = await prepare(options, out, annotate);
    out(`sigops: ${run.command} for ${run.ctx.eventName} in ${run.ctx.owner}/${run.ctx.repo}, config ${run.configDir}`);
    switch (run.command) {
      case 'validate':
        return await doValidate(run);
      case 'plan':
        return run.facts.kind === 'pull_request' ? await doPullRequestPlan(run) : await doDriftPlan(run);
      case 'apply':
        return await doApply(run);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    annotate({ level: 'error', message: `sigops: ${message}` });
    if (options.env.GITHUB_STEP_SUMMARY) {
      await stepSummary(options.env.GITHUB_STEP_SUMMARY).write(`### ❌ sigops failed\n\n${message}\n`).catch(() => {});
    }
    return EXIT.failed;
  }
}

async function prepare(
  options: RunOptions,
  out: (l: string) => void,
  annotate: (a: Annotation) => void,
): Promise<Run> {
  const env = options.env;
  const ctx = readContext(env);
  const facts = eventFacts(ctx);
  const command = chooseCommand(getInput(env, 'command'), facts);
  const configInput = getInput(env, 'config') ?? '.';
  const configRoot = isAbsolute(configInput) ? configInput : resolve(ctx.workspace, configInput);
  const rel = relative(ctx.workspace, configRoot).split(sep).join('/');
  const configDir = rel === '' ? '.' : rel;
  await mapCredentialInputs(env, ctx, out);
  const token = getInput(env, 'github-token') ?? env.GITHUB_TOKEN;
  let client: GitHubClient | undefined;
  return {
    ctx,
    facts,
    command,
    env,
    services: options.services,
    configRoot,
    configDir,
    summary: stepSummary(ctx.stepSummaryPath),
    header: { ...(ctx.sha ? { sha: headSha(facts) ?? ctx.sha } : {}), ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}) },
    prune: getBooleanInput(env, 'prune') ?? false,
    force: getBooleanInput(env, 'force') ?? false,
    now: options.now ?? (() => new Date()),
    out,
    annotate,
    github() {
      if (!token) {
        throw new ActionInputError('no GitHub token: set the `github-token` input (default `${{ github.token }}`)', 'github-token');
      }
      client ??= createClient({ token, apiUrl: ctx.apiUrl });
      return client;
    },
    async setOutput(name, value) {
      if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, `${name}=${value}\n`);
    },
  };
}

function headSha(facts: EventFacts): string | undefined {
  return facts.kind === 'pull_request' ? facts.pr.headSha : facts.kind === 'push' ? facts.push.sha : undefined;
}

/**
 * The Entra inputs become the variables the Exchange code reads: SIGOPS_CLIENT_ID,
 * SIGOPS_CLIENT_SECRET, SIGOPS_CLIENT_CERTIFICATE (a path; PEM content given inline is written
 * to a private temporary file) and, for OIDC, the ACTIONS_ID_TOKEN_REQUEST_* pair GitHub sets
 * when the job has `id-token: write`.
 */
export async function mapCredentialInputs(
  env: Record<string, string | undefined>,
  ctx: Pick<GitHubContext, 'workspace'>,
  out: (l: string) => void = () => {},
): Promise<void> {
  const clientId = getInput(env, 'client-id');
  const secret = getInput(env, 'client-secret');
  const certificate = getInput(env, 'client-certificate');
  const useOidc = getBooleanInput(env, 'use-oidc');
  if (clientId) env.SIGOPS_CLIENT_ID = clientId;
  if (secret) {
    out(`::add-mask::${secret}`);
    env.SIGOPS_CLIENT_SECRET = secret;
  }
  if (certificate) {
    if (certificate.includes('-----BEGIN')) {
      const dir = await mkdtemp(join(env.RUNNER_TEMP || tmpdir(), 'sigops-'));
      const path = join(dir, 'client.pem');
      await writeFile(path, certificate.replace(/\r\n/g, '\n') + '\n', { mode: 0o600 });
      await chmod(path, 0o600);
      env.SIGOPS_CLIENT_CERTIFICATE = path;
    } else {
      env.SIGOPS_CLIENT_CERTIFICATE = isAbsolute(certificate) ? certificate : resolve(ctx.workspace, certificate);
    }
  }
  if (useOidc === true) {
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new ActionInputError(
        '`use-oidc: true` but GitHub provided no OIDC token: give the job `permissions: id-token: write` ' +
          '(pull requests from forks never get one)',
        'use-oidc',
      );
    }
    // The Exchange code prefers a certificate or secret when present; OIDC was asked for.
    delete env.SIGOPS_CLIENT_SECRET;
    delete env.SIGOPS_CLIENT_CERTIFICATE;
  } else if (useOidc === false) {
    delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  }
}

function hasCredentials(env: Record<string, string | undefined>): boolean {
  return Boolean(
    env.SIGOPS_CLIENT_ID &&
      (env.SIGOPS_CLIENT_SECRET || env.SIGOPS_CLIENT_CERTIFICATE || (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)),
  );
}

/** Loads the config and annotates its diagnostics on the YAML lines (repository-relative paths). */
async function load(run: Run): Promise<LoadResult> {
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

function pathMapper(run: Run): (f: string) => string {
  return (f) => repoRelativePath(run.configDir, f);
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
async function publish(run: Run, markdown: string): Promise<{ ok: boolean }> {
  const c = await comment(run, markdown);
  const body = markdown.replace(/^<!-- sigops-plan -->\n(<!-- sigops-checksum: \S+ -->\n)?/, '');
  await run.summary.write(
    c.note ? `> [!WARNING]\n> The plan comment could not be written: ${c.note.replace(/\n/g, ' ')}\n\n${body}` : body,
  );
  return c;
}

async function doValidate(run: Run): Promise<number> {
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
    const c = await publish(run, `<!-- sigops-plan -->\n${md}`);
    if (!c.ok) return EXIT.failed;
  } else {
    await run.summary.write(md);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}

function invalidWarnings(warnings: readonly Diagnostic[], path: (f: string) => string): string {
  if (!warnings.length) return '';
  return ['**Warnings**', '', ...warnings.map((w) => `- \`${path(w.file)}:${w.line}:${w.col}\` ${w.message}`), ''].join('\n');
}

async function doPullRequestPlan(run: Run): Promise<number> {
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
      '<!-- sigops-plan -->',
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
    run.annotate({ level: 'error', title: 'sigops: plan failed', message: `${d.message}${d.advice ? ` (${d.advice})` : ''}` });
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
      message: t.error ? `${t.error.message}${t.error.advice ? ` (${t.error.advice})` : ''}` : t.conflicts.map((c) => c.message).join('; '),
    });
  }
  const c = await publish(run, planReport(input));
  await run.setOutput('checksum', plan.checksum);
  await run.setOutput('has-changes', String(planHasChanges(plan)));
  run.out(`sigops: plan checksum ${plan.checksum}`);
  if (bad.length) return EXIT.failed;
  return c.ok ? EXIT.ok : EXIT.failed;
}

async function doDriftPlan(run: Run): Promise<number> {
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
    run.annotate({ level: 'error', title: 'sigops: plan failed', message: `${d.message}${d.advice ? ` (${d.advice})` : ''}` });
    await run.summary.write(planFailedReport(d.message, d.advice, run.header).replace(/^<!-- sigops-plan -->\n/, ''));
    return EXIT.failed;
  }
  const details = run.services.renderPlan(plan, 'markdown');
  run.out(run.services.renderPlan(plan, 'text'));
  await run.summary.write(driftReport(plan, details, run.header));
  await run.setOutput('checksum', plan.checksum);
  await run.setOutput('has-changes', String(planHasChanges(plan)));
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

async function doApply(run: Run): Promise<number> {
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
    if (d.name === 'StalePlanError') {
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
    } else if (d.name === 'SafetyLimitError') {
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

