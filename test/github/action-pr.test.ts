// The bundled action on pull_request events against the fake GitHub REST API, for what needs
// no Exchange: an invalid config, a fork's read-only token, and GitHub API failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.ts';
import { PLAN_MARKER } from '../../src/github/comment.ts';
import { createSandbox, pullRequestPayload, type ActionSandbox } from './harness.ts';

describe('bundled action, pull_request, without Exchange', () => {
  let gh: FakeGitHub;
  let box: ActionSandbox;
  before(async () => {
    gh = await startFakeGitHub({ tokens: { 'ghs_write': 'write', 'ghs_fork': 'read' } });
    box = createSandbox();
  });
  after(async () => {
    await gh.close();
    box.cleanup();
  });

  test('an invalid config annotates the YAML lines, comments the errors once and fails the check', async () => {
    const file = join(box.configDir, 'tenants/contoso.yaml');
    const other = join(box.configDir, 'tenants/fabrikam.yaml');
    const good = readFileSync(file, 'utf8');
    const goodOther = readFileSync(other, 'utf8');
    // Two files, two kinds of error: a template reference that resolves nowhere, an unknown key.
    const bad = good.replace('signature: executive', 'signature: executiv');
    const badOther = goodOther.replace('name: Fabrikam, Inc.', 'name: Fabrikam, Inc.\ncolour: blue');
    writeFileSync(file, bad);
    writeFileSync(other, badOther);
    try {
      gh.addPullRequest({ number: 11, files: [{ filename: 'config/tenants/contoso.yaml', status: 'modified' }] });
      const refLine = bad.split('\n').findIndex((l) => l.includes('signature: executiv')) + 1;
      const keyLine = badOther.split('\n').findIndex((l) => l.startsWith('colour:')) + 1;
      const inputs = { 'github-token': 'ghs_write', command: '' };
      const r = await box.run({ event: 'pull_request', payload: pullRequestPayload(11), apiUrl: gh.url, inputs });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const errs = r.annotations.filter((a) => a.startsWith('::error file=config/tenants/'));
      assert.ok(
        errs.some((a) => a.startsWith(`::error file=config/tenants/contoso.yaml,line=${refLine},`) && /executiv/.test(a)),
        r.annotations.join('\n'),
      );
      assert.ok(
        errs.some((a) => a.startsWith(`::error file=config/tenants/fabrikam.yaml,line=${keyLine},`) && /colour/.test(a)),
        r.annotations.join('\n'),
      );

      const comments = gh.comments.get(11)!;
      assert.equal(comments.length, 1);
      assert.ok(comments[0]!.body.startsWith(PLAN_MARKER));
      assert.match(comments[0]!.body, /the configuration is invalid/);
      assert.ok(comments[0]!.body.includes(`config/tenants/contoso.yaml:${refLine}:`));
      assert.doesNotMatch(comments[0]!.body, /sigops-checksum/, 'an invalid config has no plan to apply');
      assert.match(r.summary, /the configuration is invalid/);
      assert.ok(!r.summary.includes(PLAN_MARKER));

      // Fixed in the next push: the same comment is edited, not a second one added.
      writeFileSync(file, good);
      writeFileSync(other, goodOther);
      const r2 = await box.run({
        event: 'pull_request',
        payload: pullRequestPayload(11),
        apiUrl: gh.url,
        inputs: { ...inputs, command: 'validate' },
      });
      assert.equal(r2.code, 0, r2.stdout + r2.stderr);
      assert.equal(gh.comments.get(11)!.length, 1);
      assert.equal(gh.comments.get(11)![0]!.id, comments[0]!.id);
      assert.match(gh.comments.get(11)![0]!.body, /the configuration is valid/);
    } finally {
      writeFileSync(file, good);
      writeFileSync(other, goodOther);
    }
  });

  test('a fork: read-only token (403) and no secrets; still validates, previews and writes the summary', async () => {
    gh.addPullRequest({ number: 12, files: [{ filename: 'config/templates/standard.html.hbs', status: 'modified' }] });
    const r = await box.run({
      event: 'pull_request',
      payload: pullRequestPayload(12, { fork: true }),
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_fork' },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(gh.comments.get(12)!.length, 0);
    const warning = r.annotations.find((a) => a.includes('plan comment not written'));
    assert.ok(warning?.startsWith('::warning'), r.annotations.join('\n'));
    assert.match(warning ?? "", /403 Resource not accessible by integration/);
    assert.match(warning ?? "", /fork/);
    assert.match(r.summary, /plan skipped/);
    assert.match(r.summary, /comes from a fork/);
    assert.match(r.summary, /could not be written/);
    // The template change is previewed for the rules using it, from the fork's files.
    assert.match(r.summary, /### Signature previews/);
    assert.match(r.summary, /template `standard` changed/);
  });

  test('401: a bad token is reported with what to do, and fails the check', async () => {
    gh.addPullRequest({ number: 13 });
    const r = await box.run({
      event: 'pull_request',
      payload: pullRequestPayload(13),
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_expired', command: 'validate' },
    });
    assert.equal(r.code, 1);
    const err = r.annotations.find((a) => a.includes('401'));
    assert.ok(err?.startsWith('::error'), r.stdout);
    assert.match(err ?? "", /401 Bad credentials/);
    assert.match(err ?? "", /github-token/);
    assert.match(r.summary, /could not be written: GitHub API: cannot list the comments of pull request #13: 401 Bad credentials/);
  });

  test('422: GitHub refusing the comment is reported with its field errors', async () => {
    gh.addPullRequest({ number: 14 });
    gh.failNext('POST', /\/issues\/14\/comments$/, 422, {
      message: 'Validation Failed',
      errors: [{ resource: 'IssueComment', code: 'unprocessable', field: 'data', message: 'Body cannot be blank' }],
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
    });
    const r = await box.run({
      event: 'pull_request',
      payload: pullRequestPayload(14),
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_write', command: 'validate' },
    });
    assert.equal(r.code, 1);
    const err = r.annotations.find((a) => a.includes('422'));
    assert.ok(err?.startsWith('::error'), r.stdout);
    assert.match(err ?? "", /cannot create the plan comment on pull request #14: 422 Validation Failed \(Body cannot be blank\)/);
  });

  test('a same-repository pull request without Exchange credentials fails and says which inputs to set', async () => {
    gh.addPullRequest({ number: 15 });
    const r = await box.run({
      event: 'pull_request',
      payload: pullRequestPayload(15),
      apiUrl: gh.url,
      inputs: { 'github-token': 'ghs_write' },
    });
    assert.equal(r.code, 1);
    assert.ok(r.annotations.some((a) => a.startsWith('::error') && a.includes('client-id')), r.annotations.join('\n'));
    assert.equal(gh.comments.get(15)!.length, 1);
    assert.match(gh.comments.get(15)![0]!.body, /plan skipped/);
  });
});
