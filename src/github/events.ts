// Which sigops command a GitHub event means, and the facts of that event the action uses.
import { ActionInputError, type GitHubContext } from './env.ts';

export type ActionCommand = 'validate' | 'plan' | 'apply' | 'directory-sync';

export interface PullRequestInfo {
  readonly number: number;
  readonly baseSha?: string;
  readonly headSha?: string;
  readonly baseRef?: string;
  /** The head branch lives in another repository: GitHub gives such runs a read-only token and no secrets. */
  readonly fromFork: boolean;
}

export interface PushInfo {
  /** The commit that was pushed (the merge commit of a merged pull request). */
  readonly sha: string;
  readonly branch?: string;
  readonly defaultBranch?: string;
  readonly onDefaultBranch: boolean;
}

export type EventFacts =
  | { readonly kind: 'pull_request'; readonly pr: PullRequestInfo }
  | { readonly kind: 'push'; readonly push: PushInfo }
  | { readonly kind: 'other' };

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** pull_request and pull_request_target carry the same payload shape. */
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);

export function eventFacts(ctx: GitHubContext): EventFacts {
  if (PULL_REQUEST_EVENTS.has(ctx.eventName)) {
    const pr = obj(ctx.payload.pull_request);
    const number = typeof pr?.number === 'number' ? pr.number : typeof ctx.payload.number === 'number' ? ctx.payload.number : undefined;
    if (!pr || number === undefined) {
      throw new ActionInputError(`the ${ctx.eventName} event payload has no pull_request.number`);
    }
    const base = obj(pr.base);
    const head = obj(pr.head);
    const baseRepo = str(obj(base?.repo)?.full_name);
    const headRepo = str(obj(head?.repo)?.full_name);
    // A deleted fork has head.repo null: still a fork.
    const fromFork = headRepo === undefined ? head?.repo === null : baseRepo !== undefined && headRepo.toLowerCase() !== baseRepo.toLowerCase();
    const baseSha = str(base?.sha);
    const headSha = str(head?.sha);
    const baseRef = str(base?.ref);
    return {
      kind: 'pull_request',
      pr: { number, fromFork, ...(baseSha ? { baseSha } : {}), ...(headSha ? { headSha } : {}), ...(baseRef ? { baseRef } : {}) },
    };
  }
  if (ctx.eventName === 'push') {
    const sha = str(ctx.payload.after) ?? ctx.sha;
    if (!sha) throw new ActionInputError('the push event payload has no "after" commit and GITHUB_SHA is not set');
    const ref = str(ctx.payload.ref) ?? ctx.ref;
    const branch = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
    const repository = obj(ctx.payload.repository);
    const defaultBranch = str(repository?.default_branch) ?? str(repository?.master_branch);
    return {
      kind: 'push',
      push: {
        sha,
        ...(branch ? { branch } : {}),
        ...(defaultBranch ? { defaultBranch } : {}),
        // Without the default branch in the payload we trust the workflow's own branch filter.
        onDefaultBranch: branch !== undefined && (defaultBranch === undefined || branch === defaultBranch),
      },
    };
  }
  return { kind: 'other' };
}

const COMMANDS: readonly ActionCommand[] = ['validate', 'plan', 'apply', 'directory-sync'];

/**
 * The command to run: the `command` input when given, else by event — a pull request plans
 * (validating first), a push to the default branch applies, anything else (schedule,
 * workflow_dispatch, a push elsewhere) plans for drift. `directory-sync` is only ever chosen
 * by the input: it writes a branch and a pull request, which no event should do unasked.
 */
export function chooseCommand(input: string | undefined, facts: EventFacts): ActionCommand {
  if (input !== undefined) {
    const c = input.toLowerCase();
    if (!(COMMANDS as readonly string[]).includes(c)) {
      throw new ActionInputError(`input "command" must be one of ${COMMANDS.join(', ')}, got "${input}"`, 'command');
    }
    return c as ActionCommand;
  }
  if (facts.kind === 'push' && facts.push.onDefaultBranch) return 'apply';
  return 'plan';
}
