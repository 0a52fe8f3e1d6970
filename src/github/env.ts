// What GitHub Actions hands a node action: its inputs (INPUT_*), the event that started the run
// (GITHUB_EVENT_NAME + the JSON file at GITHUB_EVENT_PATH) and a few locations. Read once, here,
// so the rest of src/github works on plain data and tests can build it directly.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SigopsError } from '../errors/index.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** The parts of a GitHub Actions run the action needs. */
export interface GitHubContext {
  readonly eventName: string;
  /** The webhook payload of the event (`{}` when GITHUB_EVENT_PATH is missing). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly owner: string;
  readonly repo: string;
  readonly apiUrl: string;
  readonly serverUrl: string;
  /** Where the checkout lives; relative `config` inputs are resolved against it. */
  readonly workspace: string;
  /** The file GitHub renders as the job summary; absent outside Actions. */
  readonly stepSummaryPath?: string;
  readonly sha?: string;
  readonly ref?: string;
  readonly runUrl?: string;
}

/**
 * A `with:` input of the action, or what GitHub Actions sets around it, is wrong or missing.
 * `code` is `action-input` when a named input is at fault, `action-environment` otherwise.
 */
export class ActionInputError extends SigopsError {
  override readonly name = 'ActionInputError';
  constructor(
    message: string,
    readonly input?: string,
  ) {
    super(message, {
      code: input ? 'action-input' : 'action-environment',
      advice: input
        ? `Fix the \`${input}\` input in the \`with:\` block of the workflow step that uses the sigops action.`
        : 'Run the sigops action as a step of a GitHub Actions workflow, which sets the GITHUB_* variables and the event file.',
    });
  }
}

/**
 * One input, the way @actions/core reads it: GitHub puts `with:` values in
 * `INPUT_<NAME>` with the name upper-cased, spaces turned into `_` and dashes KEPT
 * (`github-token` → `INPUT_GITHUB-TOKEN`). Empty means absent.
 */
export function getInput(env: Env, name: string): string | undefined {
  const value = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A YAML 1.2 core boolean input, as @actions/core's getBooleanInput accepts them. */
export function getBooleanInput(env: Env, name: string): boolean | undefined {
  const value = getInput(env, name);
  if (value === undefined) return undefined;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new ActionInputError(`input "${name}" must be true or false, got "${value}"`, name);
}

export function readContext(env: Env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): GitHubContext {
  const eventName = env.GITHUB_EVENT_NAME;
  if (!eventName) {
    throw new ActionInputError('GITHUB_EVENT_NAME is not set: this action runs inside GitHub Actions');
  }
  const repository = env.GITHUB_REPOSITORY ?? '';
  const slash = repository.indexOf('/');
  if (slash <= 0 || slash === repository.length - 1) {
    throw new ActionInputError(`GITHUB_REPOSITORY must be "owner/name", got "${repository}"`);
  }
  let payload: Record<string, unknown> = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    let text: string;
    try {
      text = readFile(eventPath);
    } catch (err) {
      throw new ActionInputError(`cannot read the event payload at GITHUB_EVENT_PATH=${eventPath}: ${(err as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) payload = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ActionInputError(`the event payload at ${eventPath} is not JSON: ${(err as Error).message}`);
    }
  }
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runUrl =
    env.GITHUB_RUN_ID !== undefined ? `${serverUrl}/${repository}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  return {
    eventName,
    payload,
    owner: repository.slice(0, slash),
    repo: repository.slice(slash + 1),
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl,
    workspace: isAbsolute(workspace) ? workspace : resolve(workspace),
    ...(env.GITHUB_STEP_SUMMARY ? { stepSummaryPath: env.GITHUB_STEP_SUMMARY } : {}),
    ...(env.GITHUB_SHA ? { sha: env.GITHUB_SHA } : {}),
    ...(env.GITHUB_REF ? { ref: env.GITHUB_REF } : {}),
    ...(runUrl ? { runUrl } : {}),
  };
}
