// Runs the BUNDLED action the way GitHub does: a copy of the action's files with no
// node_modules, `node github-action/dist/index.mjs`, the event payload in a JSON file named by
// GITHUB_EVENT_PATH, inputs as INPUT_<NAME> (upper-cased, dashes kept), and files for the job
// summary and outputs.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ActionSandbox {
  readonly dir: string;
  /** The checkout (GITHUB_WORKSPACE); the config repo is copied to `config/` in it. */
  readonly workspace: string;
  readonly configDir: string;
  run(options: RunInput): Promise<ActionRun>;
  cleanup(): void;
}

export interface RunInput {
  readonly event: string;
  readonly payload: Record<string, unknown>;
  readonly apiUrl: string;
  readonly repository?: string;
  /** `with:` inputs by their action.yml names. */
  readonly inputs?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly sha?: string;
}

export interface ActionRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly summary: string;
  readonly outputs: Record<string, string>;
  /** `::error …::` / `::warning …::` lines. */
  readonly annotations: string[];
}

let runs = 0;

export function createSandbox(configSource = 'example-config'): ActionSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-gha-'));
  const action = join(dir, 'action');
  mkdirSync(join(action, 'github-action/dist'), { recursive: true });
  cpSync('github-action/dist/index.mjs', join(action, 'github-action/dist/index.mjs'));
  cpSync('github-action/action.yml', join(action, 'github-action/action.yml'));
  // Only the bundle and action.yml: the JSON Schemas and every dependency are inside the bundle.
  const workspace = join(dir, 'workspace');
  const configDir = join(workspace, 'config');
  cpSync(configSource, configDir, { recursive: true, filter: (src) => !src.includes('.github') });
  return {
    dir,
    workspace,
    configDir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    run: (input) => runAction(dir, action, workspace, input),
  };
}

async function runAction(dir: string, action: string, workspace: string, input: RunInput): Promise<ActionRun> {
  const n = ++runs;
  const eventPath = join(dir, `event-${n}.json`);
  const summaryPath = join(dir, `summary-${n}.md`);
  const outputPath = join(dir, `output-${n}.txt`);
  writeFileSync(eventPath, JSON.stringify(input.payload));
  writeFileSync(summaryPath, '');
  writeFileSync(outputPath, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    RUNNER_TEMP: dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: input.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: input.repository ?? 'acme/signatures',
    GITHUB_API_URL: input.apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKSPACE: workspace,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_RUN_ID: String(9000 + n),
    GITHUB_SHA: input.sha ?? 'a'.repeat(40),
    SIGOPS_LOG_LEVEL: 'warn',
    ...input.env,
  };
  // GitHub's own convention: INPUT_ + name upper-cased, spaces to _, dashes kept.
  for (const [k, v] of Object.entries({ config: 'config', ...input.inputs })) {
    env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  }
  const child = spawn(process.execPath, [join(action, 'github-action/dist/index.mjs')], { cwd: workspace, env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(outputPath, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    code,
    stdout,
    stderr,
    summary: existsSync(summaryPath) ? readFileSync(summaryPath, 'utf8') : '',
    outputs,
    annotations: stdout.split('\n').filter((l) => /^::(error|warning|notice)\b/.test(l)),
  };
}

/** A pull_request event payload as GitHub sends it (the fields the action reads). */
export function pullRequestPayload(
  number: number,
  options: { fork?: boolean; baseSha?: string; headSha?: string; repository?: string } = {},
): Record<string, unknown> {
  const repo = options.repository ?? 'acme/signatures';
  return {
    action: 'synchronize',
    number,
    pull_request: {
      number,
      state: 'open',
      base: { ref: 'main', sha: options.baseSha ?? 'b'.repeat(40), repo: { full_name: repo } },
      head: {
        ref: 'feature',
        sha: options.headSha ?? 'c'.repeat(40),
        repo: { full_name: options.fork ? 'mallory/signatures' : repo },
      },
    },
    repository: { full_name: repo, default_branch: 'main' },
  };
}

export function pushPayload(sha: string, branch = 'main'): Record<string, unknown> {
  return {
    ref: `refs/heads/${branch}`,
    before: '0'.repeat(40),
    after: sha,
    repository: { full_name: 'acme/signatures', default_branch: 'main' },
    head_commit: { id: sha },
  };
}
