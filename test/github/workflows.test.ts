// The ready-to-copy workflows and action.yml agree: every `with:` key is an input of the action,
// permissions are least-privilege, applies never race, and action.yml runs the bundle on node20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { steps: Step[]; permissions?: unknown }>;
}

const action = parse(readFileSync('github-action/action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string };
};
const load = (name: string) => parse(readFileSync(`example-config/.github/workflows/${name}`, 'utf8')) as Workflow;

test('action.yml runs the committed bundle on node20 with the documented inputs', () => {
  assert.equal(action.runs.using, 'node20');
  assert.equal(action.runs.main, 'dist/index.mjs');
  assert.ok(existsSync('github-action/dist/index.mjs'));
  for (const name of ['command', 'config', 'github-token', 'client-id', 'client-secret', 'client-certificate', 'use-oidc']) {
    assert.ok(name in action.inputs, `input ${name}`);
  }
  assert.equal(action.inputs['github-token']?.default, '${{ github.token }}');
  assert.equal(action.inputs.config?.default, '.');
});

function sigopsStep(wf: Workflow): Step {
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  const step = steps.find((s) => s.uses?.includes('/github-action@'));
  assert.ok(step, 'uses the sigops action');
  for (const key of Object.keys(step.with ?? {})) assert.ok(key in action.inputs, `"${key}" is not an input of action.yml`);
  const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
  assert.equal(checkout?.with?.['fetch-depth'], 0, 'full history: deleted tenants are found in it');
  return step;
}

test('plan on pull requests: may comment, nothing more', () => {
  const wf = load('sigops-plan.yml');
  assert.ok('pull_request' in wf.on);
  assert.deepEqual(wf.permissions, { contents: 'read', 'pull-requests': 'write', 'id-token': 'write' });
  assert.equal(sigopsStep(wf).with?.command, 'plan');
});

test('apply on main: read-only GitHub access, one apply at a time, never cancelled', () => {
  const wf = load('sigops-apply.yml');
  assert.deepEqual((wf.on.push as { branches: string[] }).branches, ['main']);
  assert.deepEqual(wf.permissions, { contents: 'read', 'pull-requests': 'read', 'id-token': 'write' });
  assert.deepEqual(wf.concurrency, { group: 'sigops-apply', 'cancel-in-progress': false });
  assert.equal(sigopsStep(wf).with?.command, 'apply');
});

test('nightly drift check: no write permission at all, own concurrency group', () => {
  const wf = load('sigops-drift.yml');
  assert.ok('schedule' in wf.on && 'workflow_dispatch' in wf.on);
  assert.deepEqual(wf.permissions, { contents: 'read', 'id-token': 'write' });
  assert.notEqual(wf.concurrency?.group, 'sigops-apply', 'a queued drift check must not cancel a queued apply');
  assert.equal(sigopsStep(wf).with?.command, 'plan');
});

test('nightly directory sync: writes only a branch and a pull request, with a token that starts the plan check', () => {
  const wf = load('sigops-directory-sync.yml');
  assert.ok('schedule' in wf.on && 'workflow_dispatch' in wf.on);
  assert.deepEqual(wf.permissions, { contents: 'write', 'pull-requests': 'write', 'id-token': 'write' });
  assert.equal(wf.concurrency?.group, 'sigops-directory-sync');
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  const step = steps.find((s) => s.uses?.includes('/github-action@'));
  assert.ok(step);
  for (const key of Object.keys(step.with ?? {})) assert.ok(key in action.inputs, `"${key}" is not an input of action.yml`);
  assert.equal(step.with?.command, 'directory-sync');
  // github.token's pushes start no workflow: the App's token comes first.
  assert.ok(steps.some((s) => s.uses?.startsWith('actions/create-github-app-token@')));
  assert.match(String(step.with?.['github-token']), /steps\.app\.outputs\.token/);
  assert.ok('tenant' in action.inputs && 'pull-request-url' in (parse(readFileSync('github-action/action.yml', 'utf8')) as { outputs: object }).outputs);
});
