import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.ts';
import { createClient, GitHubApiError } from '../../src/github/client.ts';
import {
  PLAN_MARKER,
  checksumFromComment,
  checksumMarker,
  mergedPlanChecksum,
  upsertPlanComment,
} from '../../src/github/comment.ts';
import { COMMENT_LIMIT } from '../../src/github/markdown.ts';

describe('plan comment upsert against the fake GitHub', () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub({ tokens: { good: 'write', readonly: 'read' } });
  });
  after(() => gh.close());
  const client = () => createClient({ token: 'good', apiUrl: gh.url });
  const target = (number: number) => ({ owner: gh.owner, repo: gh.repo, number });

  test('creates once, then updates in place, then leaves an identical body alone', async () => {
    gh.addPullRequest({ number: 1 });
    const first = await upsertPlanComment(client(), target(1), 'plan v1');
    assert.equal(first.action, 'created');
    assert.equal(gh.comments.get(1)!.length, 1);
    assert.ok(gh.comments.get(1)![0]!.body.startsWith(PLAN_MARKER));

    const second = await upsertPlanComment(client(), target(1), 'plan v2');
    assert.equal(second.action, 'updated');
    assert.equal(second.id, first.id);
    assert.equal(gh.comments.get(1)!.length, 1);
    assert.match(gh.comments.get(1)![0]!.body, /plan v2/);

    const third = await upsertPlanComment(client(), target(1), 'plan v2');
    assert.equal(third.action, 'unchanged');
    assert.equal(gh.requests.filter((r) => r.method === 'PATCH').length, 1);
  });

  test('finds its comment behind several pages of discussion (Link pagination)', async () => {
    gh.addPullRequest({ number: 2 });
    gh.addComment(2, 'first review remark');
    const mine = await upsertPlanComment(client(), target(2), 'plan A');
    // 250 human comments after ours: the API's pages are 100 long, so ours is on page 1 and the
    // newest on page 3; and a human quoting the marker in the middle is not ours.
    for (let i = 0; i < 250; i++) gh.addComment(2, i === 120 ? `quoting: ${PLAN_MARKER}` : `comment ${i}`);
    const before = gh.requests.length;
    const again = await upsertPlanComment(client(), target(2), 'plan B');
    assert.equal(again.action, 'updated');
    assert.equal(again.id, mine.id);
    const lists = gh.requests.slice(before).filter((r) => r.method === 'GET' && r.path.includes('/issues/2/comments'));
    assert.equal(lists.length, 3, 'read every page');
    assert.equal(gh.comments.get(2)!.filter((c) => c.body.startsWith(PLAN_MARKER)).length, 1);
  });

  test('removes duplicates left by two racing runs, keeping the oldest', async () => {
    gh.addPullRequest({ number: 3 });
    const a = gh.addComment(3, `${PLAN_MARKER}\nold 1`, 'github-actions[bot]');
    gh.addComment(3, `${PLAN_MARKER}\nold 2`, 'github-actions[bot]');
    const r = await upsertPlanComment(client(), target(3), 'fresh');
    assert.equal(r.id, a.id);
    assert.equal(r.removedDuplicates, 1);
    assert.deepEqual(
      gh.comments.get(3)!.map((c) => c.body),
      [`${PLAN_MARKER}\nfresh`],
    );
  });

  test('shortens a body over 65,536 characters with a note instead of getting a 422', async () => {
    gh.addPullRequest({ number: 4 });
    const huge = `## plan\n${checksumMarker('sha256:abc')}\n<details><summary>big</summary>\n\n\`\`\`diff\n${'+ line of plan\n'.repeat(10_000)}\`\`\`\n</details>\n`;
    const r = await upsertPlanComment(client(), target(4), huge);
    assert.equal(r.shortened, true);
    const body = gh.comments.get(4)![0]!.body;
    assert.ok(body.length <= COMMENT_LIMIT);
    assert.match(body, /Shortened: [\d,]+ characters left out because GitHub limits a comment/);
    assert.equal(checksumFromComment(body), 'sha256:abc');
    // The cut closed the open fence and <details> so the rest of the page still renders.
    assert.equal((body.match(/^```/gm) ?? []).length % 2, 0);
    assert.equal((body.match(/<details>/g) ?? []).length, (body.match(/<\/details>/g) ?? []).length);
  });

  test('401 bad token is reported with what to do', async () => {
    gh.addPullRequest({ number: 5 });
    const bad = createClient({ token: 'nope', apiUrl: gh.url });
    await assert.rejects(upsertPlanComment(bad, target(5), 'x'), (err: unknown) => {
      assert.ok(err instanceof GitHubApiError);
      assert.equal(err.status, 401);
      assert.match(err.message, /cannot list the comments of pull request #5: 401 Bad credentials/);
      assert.match(err.message, /github-token/);
      return true;
    });
  });

  test('403 for a fork pull request explains the read-only token', async () => {
    gh.addPullRequest({ number: 6 });
    const ro = createClient({ token: 'readonly', apiUrl: gh.url });
    await assert.rejects(upsertPlanComment(ro, { ...target(6), fromFork: true }, 'x'), (err: unknown) => {
      assert.ok(err instanceof GitHubApiError);
      assert.equal(err.status, 403);
      assert.match(err.message, /Resource not accessible by integration/);
      assert.match(err.message, /fork/);
      assert.match(err.message, /job summary/);
      return true;
    });
    // Same status from the same repository: a missing permission, said so.
    await assert.rejects(upsertPlanComment(ro, target(6), 'x'), /permissions: pull-requests: write/);
  });

  test('422 carries GitHub\'s field errors', async () => {
    gh.addPullRequest({ number: 7 });
    gh.failNext('POST', /\/issues\/7\/comments$/, 422, {
      message: 'Validation Failed',
      errors: [{ resource: 'IssueComment', code: 'unprocessable', field: 'data', message: 'Body cannot be blank' }],
      documentation_url: 'https://docs.github.com/rest',
    });
    await assert.rejects(upsertPlanComment(client(), target(7), 'x'), (err: unknown) => {
      assert.ok(err instanceof GitHubApiError);
      assert.equal(err.status, 422);
      assert.match(err.message, /422 Validation Failed \(Body cannot be blank\)/);
      return true;
    });
  });

  test('finds the checksum of the merged pull request of a commit', async () => {
    const merge = 'd'.repeat(40);
    gh.addPullRequest({ number: 8, state: 'closed', merged_at: '2026-11-20T12:00:00Z', merge_commit_sha: merge });
    gh.addComment(8, 'lgtm');
    gh.addComment(8, `${PLAN_MARKER}\n${checksumMarker('sha256:feedbeef')}\nplan`, 'github-actions[bot]');
    const found = await mergedPlanChecksum(client(), { owner: gh.owner, repo: gh.repo }, merge);
    assert.deepEqual({ pr: found.pullRequest, checksum: found.checksum }, { pr: 8, checksum: 'sha256:feedbeef' });

    const direct = await mergedPlanChecksum(client(), { owner: gh.owner, repo: gh.repo }, 'e'.repeat(40));
    assert.equal(direct.checksum, undefined);
    assert.match(direct.note, /does not come from a merged pull request/);
  });

  test('a 502 on an idempotent call is retried; a failed POST never is (it could duplicate the comment)', async () => {
    gh.addPullRequest({ number: 9 });
    const fast = createClient({ token: 'good', apiUrl: gh.url, retryDelayMs: 1 });
    const bad = { message: 'Server Error' };
    gh.failNext('GET', /\/issues\/9\/comments$/, 502, bad);
    const created = await upsertPlanComment(fast, target(9), 'v1');
    assert.equal(created.action, 'created');
    gh.failNext('PATCH', /\/issues\/comments\/\d+$/, 503, bad, 2);
    assert.equal((await upsertPlanComment(fast, target(9), 'v2')).action, 'updated');

    gh.addPullRequest({ number: 10 });
    gh.failNext('POST', /\/issues\/10\/comments$/, 502, bad);
    await assert.rejects(upsertPlanComment(fast, target(10), 'x'), /502 Server Error.*GitHub had a server error; re-run the job/);
    assert.equal(gh.requests.filter((r) => r.method === 'POST' && r.path.includes('/issues/10/')).length, 1);
    assert.equal(gh.comments.get(10)!.length, 0);
  });
});
