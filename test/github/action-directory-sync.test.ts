// The action's `directory-sync` command end to end: the way GitHub runs it (INPUT_*, GITHUB_*
// and an event file; the first run through its entry point github-action/src/main.ts as a child
// process, the others through runAction in this process, which is the same code without the
// seconds of starting tsx), against the fake Entra login, the fake Graph and the fake GitHub
// REST API with its Git database. Each run
// starts from a fresh checkout of main, as a scheduled run does: the first opens the pull
// request, a change in Entra updates the same one (branch force-pushed, description rewritten),
// a night without changes writes nothing, and once main holds the directory the pull request
// is closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.ts';
import { CLIENT_ID, CONTOSO_ID, SECRET, makeConfig, startGraphHarness, type GraphHarness } from '../directory/helpers.ts';
import { DIRECTORY_SYNC_MARKER } from '../../src/github/commands/directory-sync.ts';
import { runAction } from '../../src/github/index.ts';
import { sigopsServices } from '../../src/github/services.ts';

const MAIN = resolve('github-action/src/main.ts');
// The workspace is elsewhere: tsx is named by its location, not looked up from there.
const TSX = import.meta.resolve('tsx');
const SNAPSHOT = 'config/directory/contoso.graph.yaml';
const BRANCH = 'sigops/directory-sync/contoso';

interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

describe('action: directory-sync', () => {
  let h: GraphHarness;
  let gh: FakeGitHub;
  let workspace: string;
  let mainFiles: Record<string, Buffer>;
  let runs = 0;

  /** Every file of the config checkout, by repository path. */
  const filesOf = (dir: string): Record<string, Buffer> => {
    const out: Record<string, Buffer> = {};
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out[relative(workspace, p).split(sep).join('/')] = readFileSync(p);
      }
    };
    walk(dir);
    return out;
  };

  /** A fresh checkout of main's head into the workspace. */
  const checkout = (): string => {
    rmSync(join(workspace, 'config'), { recursive: true, force: true });
    const head = gh.branches.get('main')!;
    for (const [path, text] of gh.bytesAt(head)) {
      const p = join(workspace, ...path.split('/'));
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, text);
    }
    return head;
  };

  const run = async (inputs: Record<string, string> = { tenant: 'contoso' }, token = 'ghs_app', childProcess = false): Promise<ActionRun> => {
    const sha = checkout();
    const n = ++runs;
    const event = join(h.dir, `event-${n}.json`);
    const summary = join(h.dir, `summary-${n}.md`);
    const output = join(h.dir, `output-${n}.txt`);
    writeFileSync(event, JSON.stringify({ schedule: '41 2 * * *', repository: { full_name: 'acme/signatures', default_branch: 'main' } }));
    writeFileSync(summary, '');
    writeFileSync(output, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: h.dir,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'schedule',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/signatures',
      GITHUB_API_URL: gh.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_WORKSPACE: workspace,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      GITHUB_RUN_ID: String(7000 + n),
      GITHUB_SHA: sha,
      GITHUB_REF: 'refs/heads/main',
      SIGOPS_LOG_LEVEL: 'warn',
      SIGOPS_GRAPH_URL: h.graph.url,
      SIGOPS_LOGIN_URL: h.entra.fake.loginUrl,
      NODE_EXTRA_CA_CERTS: h.caFile,
    };
    for (const [k, v] of Object.entries({ command: 'directory-sync', config: 'config', 'github-token': token, 'client-id': CLIENT_ID, 'client-secret': SECRET, ...inputs })) {
      env[`INPUT_${k.toUpperCase()}`] = v;
    }
    let stdout = '';
    let stderr = '';
    let code: number | null;
    if (childProcess) {
      const child = spawn(process.execPath, ['--import', TSX, MAIN], { cwd: workspace, env });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      code = await new Promise<number | null>((r) => child.on('close', r));
    } else {
      // In process the login's CA is handed over directly (NODE_EXTRA_CA_CERTS is read at start).
      code = await runAction({ env, services: sigopsServices(env, { loginCa: h.entra.fake.caCert }), write: (t) => void (stdout += t) });
    }
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
    }
    return { code, stdout, stderr, outputs, summary: readFileSync(summary, 'utf8') };
  };

  const writes = (from: number) => gh.requests.slice(from).filter((r) => r.method !== 'GET');
  const openPulls = () => [...gh.pulls.values()].filter((p) => p.state === 'open' && p.head.ref === BRANCH);
  const branchSnapshot = () => gh.filesAt(gh.branches.get(BRANCH)!).get(SNAPSHOT);

  before(async () => {
    h = await startGraphHarness({ pageSize: 2 });
    gh = await startFakeGitHub({ tokens: { ghs_app: 'write', ghs_read: 'read' } });
    workspace = join(h.dir, 'workspace');
    makeConfig(workspace, 'config');
    // main holds the config without a snapshot yet: contoso was just switched to Graph.
    mainFiles = filesOf(join(workspace, 'config'));
    gh.commitFiles('main', mainFiles, 'contoso reads its directory from Graph');
  });
  after(async () => {
    await gh.close();
    await h.stop();
  });

  test('first night: one pull request from the sync branch with the new snapshot and a summary', async () => {
    const r = await run({ tenant: 'contoso' }, 'ghs_app', true);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const prs = openPulls();
    assert.equal(prs.length, 1);
    const pr = prs[0]!;
    assert.equal(pr.base.ref, 'main');
    assert.equal(r.outputs['has-changes'], 'true');
    assert.equal(r.outputs['pull-request-number'], String(pr.number));
    assert.equal(r.outputs['pull-request-url'], `https://github.com/acme/signatures/pull/${pr.number}`);
    // The branch is main plus the snapshot, exactly as the sync wrote it in the checkout.
    const head = gh.commit(gh.branches.get(BRANCH)!)!;
    assert.deepEqual(head.parents, [gh.branches.get('main')]);
    const files = gh.filesAt(head.sha);
    assert.equal(files.get(SNAPSHOT), readFileSync(join(workspace, SNAPSHOT), 'utf8'));
    assert.match(files.get(SNAPSHOT)!, /email: alice@contoso\.com/);
    assert.deepEqual([...files.keys()].filter((p) => !(p in mainFiles)), [SNAPSHOT]);
    assert.ok(pr.body?.startsWith(DIRECTORY_SYNC_MARKER));
    assert.match(pr.body!, /\| `contoso` \| `config\/directory\/contoso\.graph\.yaml` \| 4 \| 4 \| 0 \| 0 \|/);
    assert.match(pr.body!, /^- alice@contoso\.com$/m);
    assert.match(pr.body!, /2 with an address outside the tenant's domains/);
    assert.match(pr.title ?? '', /contoso \+4 −0 ~0/);
    assert.match(r.summary, /### sigops directory sync/);
  });

  test('a change in Entra the next night: the same pull request, branch force-pushed, description rewritten', async () => {
    const before = gh.requests.length;
    const number = openPulls()[0]!.number;
    const firstHead = gh.branches.get(BRANCH);
    h.graph.updateUser(CONTOSO_ID, 'bob@contoso.com', { jobTitle: 'Chief Engineer' });
    const r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(openPulls().length, 1, 'never a second pull request');
    const pr = openPulls()[0]!;
    assert.equal(pr.number, number);
    assert.notEqual(gh.branches.get(BRANCH), firstHead);
    assert.deepEqual(gh.commit(gh.branches.get(BRANCH)!)!.parents, [gh.branches.get('main')], 'still one commit on main');
    assert.match(branchSnapshot()!, /jobTitle: Chief Engineer/);
    // Still 4 added against main (main has no snapshot); Bob's new title is in the snapshot.
    assert.match(pr.body!, /\| 4 \| 4 \| 0 \| 0 \|/);
    const w = writes(before);
    assert.ok(w.some((x) => x.method === 'PATCH' && /\/git\/refs\/heads(%2F|\/)sigops/.test(x.path) && (x.body as { force?: boolean }).force === true), 'forced push of the branch');
    assert.ok(w.some((x) => x.method === 'PATCH' && x.path.endsWith(`/pulls/${number}`)));
    assert.ok(!w.some((x) => x.method === 'POST' && x.path.endsWith('/pulls')));
    assert.equal(r.outputs['pull-request-number'], String(number));
  });

  test('a night without changes writes nothing', async () => {
    const before = gh.requests.length;
    const head = gh.branches.get(BRANCH);
    const r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(writes(before), [], 'no blob, tree, commit, push or edit');
    assert.equal(gh.branches.get(BRANCH), head);
    assert.match(r.stdout, /already proposes these changes/);
    assert.equal(r.outputs['has-changes'], 'true');
  });

  test('after the merge, a change opens a fresh pull request on the new main; no change closes a stale one', async () => {
    // The reviewer merges: main now holds the branch's snapshot.
    const pr = openPulls()[0]!;
    gh.commitFiles('main', Object.fromEntries(gh.bytesAt(gh.branches.get(BRANCH)!)), `Merge pull request #${pr.number}`);
    pr.state = 'closed';
    pr.merged_at = '2026-11-21T08:00:00Z';

    // Nothing changed since: main matches Graph, nothing to do.
    let before = gh.requests.length;
    let r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs['has-changes'], 'false');
    assert.deepEqual(writes(before), []);
    assert.equal(openPulls().length, 0);

    // A new hire: a new pull request from the same branch, now one commit on the new main.
    h.graph.addUser(CONTOSO_ID, { mail: 'zoe@contoso.com', userPrincipalName: 'zoe@contoso.com', displayName: 'Zoe New' });
    r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const fresh = openPulls();
    assert.equal(fresh.length, 1);
    assert.notEqual(fresh[0]!.number, pr.number);
    assert.deepEqual(gh.commit(gh.branches.get(BRANCH)!)!.parents, [gh.branches.get('main')]);
    assert.match(fresh[0]!.body!, /\| 5 \| 1 \| 0 \| 0 \|/);
    assert.match(fresh[0]!.body!, /^- zoe@contoso\.com$/m);

    // Zoe leaves before anyone merged: main matches Graph again, the pull request is closed.
    h.graph.updateUser(CONTOSO_ID, 'zoe@contoso.com', { accountEnabled: false });
    before = gh.requests.length;
    r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(openPulls().length, 0);
    assert.equal(gh.pulls.get(fresh[0]!.number)!.state, 'closed');
    assert.ok(gh.comments.get(fresh[0]!.number)!.some((c) => c.body.startsWith(DIRECTORY_SYNC_MARKER)));
    assert.match(r.stdout, /closed the outdated pull request/);
  });

  test('a read-only token: the sync fails with the permission to grant, main untouched', async () => {
    h.graph.addUser(CONTOSO_ID, { mail: 'yan@contoso.com', userPrincipalName: 'yan@contoso.com', displayName: 'Yan Other' });
    const main = gh.branches.get('main');
    const r = await run({ tenant: 'contoso' }, 'ghs_read');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /::error.*403 Resource not accessible by integration.*contents: write/);
    assert.equal(gh.branches.get('main'), main);
    assert.ok(existsSync(join(workspace, SNAPSHOT)));
  });

  test('a tenant that does not read from Graph is refused by name', async () => {
    const r = await run({ tenant: 'fabrikam' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /::error.*tenant fabrikam reads its directory from directory\/fabrikam\.yaml/);
  });
});
