// The action's flow: read what GitHub handed over, pick the command for the event, then run it
// (commands/*.ts) and report on the pull request, in annotations and in the job summary.
// Everything sigops-specific comes in through the `SigopsServices` port so the flow only knows
// GitHub; github-action/src/main.ts wires the real services.
import { appendFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { describeError } from '../errors/index.ts';
import { formatAnnotation, type Annotation } from './annotations.ts';
import { createClient, type GitHubClient } from './client.ts';
import { doApply } from './commands/apply.ts';
import { EXIT, withAdvice, type Run } from './commands/context.ts';
import { doDirectorySync } from './commands/directory-sync.ts';
import { doDriftPlan } from './commands/drift-plan.ts';
import { doPullRequestPlan } from './commands/pull-request-plan.ts';
import { doValidate } from './commands/validate.ts';
import { mapCredentialInputs } from './credentials.ts';
import { ActionInputError, getBooleanInput, getInput, readContext } from './env.ts';
import { chooseCommand, eventFacts, type EventFacts } from './events.ts';
import type { SigopsServices } from './port.ts';
import { stepSummary } from './summary.ts';

export { EXIT } from './commands/context.ts';
export type { ApplyOutcome, LoadResult, SigopsServices } from './port.ts';

export interface RunOptions {
  /** process.env in production. Credential inputs are mapped INTO it (SIGOPS_CLIENT_*). */
  readonly env: Record<string, string | undefined>;
  readonly services: SigopsServices;
  readonly write?: (text: string) => void;
  readonly now?: () => Date;
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
      case 'directory-sync':
        return await doDirectorySync(run);
    }
  } catch (err) {
    const message = withAdvice(describeError(err));
    annotate({ level: 'error', message: `sigops: ${message}` });
    if (options.env.GITHUB_STEP_SUMMARY) {
      await stepSummary(options.env.GITHUB_STEP_SUMMARY).write(`### ❌ sigops failed\n\n${message}\n`).catch(() => {});
    }
    return EXIT.failed;
  }
}

/** The run's context: event, command, config location, credentials mapped into the environment. */
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
