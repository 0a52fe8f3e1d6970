// Reading what GitHub hands a node action, choosing the command per event, and the workflow
// command / markdown formatting helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBooleanInput, getInput, readContext, ActionInputError } from '../../src/github/env.ts';
import { chooseCommand, eventFacts } from '../../src/github/events.ts';
import { formatAnnotation, repoRelativePath } from '../../src/github/annotations.ts';
import { codeBlock, fitMarkdown } from '../../src/github/markdown.ts';

test('inputs are read the way GitHub names them: upper-cased, dashes kept, spaces to _', () => {
  const env = { 'INPUT_GITHUB-TOKEN': ' ghs_x ', INPUT_CONFIG: '', INPUT_MY_INPUT: 'v', 'INPUT_USE-OIDC': 'True' };
  assert.equal(getInput(env, 'github-token'), 'ghs_x');
  assert.equal(getInput(env, 'GITHUB_TOKEN'), undefined, 'a dash is not an underscore');
  assert.equal(getInput(env, 'config'), undefined, 'empty is absent');
  assert.equal(getInput(env, 'my input'), 'v');
  assert.equal(getBooleanInput(env, 'use-oidc'), true);
  assert.throws(() => getBooleanInput({ 'INPUT_USE-OIDC': 'yes' }, 'use-oidc'), ActionInputError);
});

test('context: repository, API URL, event payload; clear errors outside Actions', () => {
  const ctx = readContext(
    {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: '/ev.json',
      GITHUB_REPOSITORY: 'acme/signatures',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      GITHUB_WORKSPACE: '/w',
      GITHUB_RUN_ID: '42',
    },
    () => '{"after":"abc","ref":"refs/heads/main","repository":{"default_branch":"main"}}',
  );
  assert.equal(ctx.owner, 'acme');
  assert.equal(ctx.repo, 'signatures');
  assert.equal(ctx.apiUrl, 'https://ghe.example.com/api/v3');
  assert.equal(ctx.runUrl, 'https://github.com/acme/signatures/actions/runs/42');
  assert.deepEqual(eventFacts(ctx), {
    kind: 'push',
    push: { sha: 'abc', branch: 'main', defaultBranch: 'main', onDefaultBranch: true },
  });
  assert.throws(() => readContext({}), /GITHUB_EVENT_NAME is not set/);
  assert.throws(() => readContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'nope' }), /owner\/name/);
  assert.throws(
    () => readContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'a/b', GITHUB_EVENT_PATH: '/x' }, () => '{'),
    /not JSON/,
  );
});

test('the command follows the event unless given', () => {
  const ctx = (eventName: string, payload: Record<string, unknown>) =>
    readContext({ GITHUB_EVENT_NAME: eventName, GITHUB_REPOSITORY: 'a/b', GITHUB_EVENT_PATH: '/e' }, () => JSON.stringify(payload));
  const pr = eventFacts(
    ctx('pull_request', {
      pull_request: { number: 3, base: { repo: { full_name: 'a/b' } }, head: { repo: { full_name: 'fork/b' } } },
    }),
  );
  assert.equal(pr.kind === 'pull_request' && pr.pr.fromFork, true);
  assert.equal(chooseCommand(undefined, pr), 'plan');
  const main = eventFacts(ctx('push', { after: 'x', ref: 'refs/heads/main', repository: { default_branch: 'main' } }));
  assert.equal(chooseCommand(undefined, main), 'apply');
  const branch = eventFacts(ctx('push', { after: 'x', ref: 'refs/heads/wip', repository: { default_branch: 'main' } }));
  assert.equal(chooseCommand(undefined, branch), 'plan', 'a push elsewhere never applies by default');
  assert.equal(chooseCommand(undefined, eventFacts(ctx('schedule', {}))), 'plan');
  assert.equal(chooseCommand('Validate', eventFacts(ctx('schedule', {}))), 'validate');
  assert.throws(() => chooseCommand('destroy', pr), /must be one of validate, plan, apply/);
});

test('annotations escape like @actions/core; paths become repository-relative', () => {
  assert.equal(
    formatAnnotation({ level: 'error', file: 'config/tenants/a,b.yaml', line: 3, col: 7, title: 'sigops: x', message: '50% bad\nline 2' }),
    '::error file=config/tenants/a%2Cb.yaml,line=3,col=7,title=sigops%3A x::50%25 bad%0Aline 2',
  );
  assert.equal(formatAnnotation({ level: 'warning', message: 'plain' }), '::warning::plain');
  assert.equal(repoRelativePath('.', 'tenants/x.yaml'), 'tenants/x.yaml');
  assert.equal(repoRelativePath('./config/', 'tenants/x.yaml'), 'config/tenants/x.yaml');
});

test('fitMarkdown keeps short text, and cuts long text at a line with structures closed', () => {
  assert.equal(fitMarkdown('short', 100, 'x'), 'short');
  const long = `<details><summary>s</summary>\n\n${codeBlock('a\n'.repeat(5000), 'diff')}\n</details>\nafter`;
  const cut = fitMarkdown(long, 2000, 'it is long', 'See the summary.');
  assert.ok(cut.length <= 2000);
  assert.match(cut, /```\n\n<\/details>\n/);
  assert.match(cut, /Shortened: [\d,]+ characters left out because it is long\. See the summary\./);
  // A fence inside the content cannot end the block early.
  assert.equal(codeBlock('x\n```\ny'), '````\nx\n```\ny\n````');
});

test('Entra inputs map to the variables the Exchange code reads', async () => {
  const { mapCredentialInputs } = await import('../../src/github/credentials.ts');
  const { mkdtempSync, readFileSync, statSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sigops-inputs-'));
  try {
    const pem = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----';
    const env: Record<string, string | undefined> = {
      RUNNER_TEMP: dir,
      'INPUT_CLIENT-ID': 'app-id',
      'INPUT_CLIENT-CERTIFICATE': pem,
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
      'INPUT_USE-OIDC': 'false',
    };
    await mapCredentialInputs(env, { workspace: '/w' });
    assert.equal(env.SIGOPS_CLIENT_ID, 'app-id');
    const path = env.SIGOPS_CLIENT_CERTIFICATE!;
    assert.ok(path.startsWith(dir), 'inline PEM goes to a private file under RUNNER_TEMP');
    assert.equal(readFileSync(path, 'utf8'), `${pem}\n`);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(env.ACTIONS_ID_TOKEN_REQUEST_URL, undefined, 'use-oidc: false hides the OIDC endpoint');

    const byPath: Record<string, string | undefined> = { 'INPUT_CLIENT-CERTIFICATE': 'secrets/app.pem' };
    await mapCredentialInputs(byPath, { workspace: '/w' });
    assert.equal(byPath.SIGOPS_CLIENT_CERTIFICATE, '/w/secrets/app.pem');

    const oidc: Record<string, string | undefined> = { 'INPUT_USE-OIDC': 'true', 'INPUT_CLIENT-SECRET': 's' };
    await assert.rejects(mapCredentialInputs(oidc, { workspace: '/w' }), /id-token: write/);
    const oidcOk: Record<string, string | undefined> = {
      'INPUT_USE-OIDC': 'true',
      'INPUT_CLIENT-SECRET': 's',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'u',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
    };
    const lines: string[] = [];
    await mapCredentialInputs(oidcOk, { workspace: '/w' }, (l) => lines.push(l));
    assert.equal(oidcOk.SIGOPS_CLIENT_SECRET, undefined, 'use-oidc: true wins over a secret');
    assert.deepEqual(lines, ['::add-mask::s']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the job summary stays under GitHub\'s 1 MiB, multi-byte text included', async () => {
  const { stepSummary, STEP_SUMMARY_LIMIT } = await import('../../src/github/summary.ts');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sigops-summary-'));
  try {
    const path = join(dir, 'summary.md');
    const summary = stepSummary(path);
    await summary.write('### first\n');
    await summary.write(`<details>\n\n${codeBlock('✅ ünïcödé line\n'.repeat(120_000), 'diff')}\n</details>\n`);
    const text = readFileSync(path, 'utf8');
    assert.ok(Buffer.byteLength(text) <= STEP_SUMMARY_LIMIT, `${Buffer.byteLength(text)} bytes`);
    assert.ok(text.startsWith('### first\n'));
    assert.match(text, /a job summary is limited to 1 MiB/);
    await stepSummary(undefined).write('outside Actions: nothing happens');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
