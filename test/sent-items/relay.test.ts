// The relay and the Sent Items queue together: a signed message of a tenant with sentItems is
// copied and queued once the next hop accepted it, and its copy replaces the original through
// the Graph fake; a tenant without the feature never reaches Graph; Graph being down never
// touches the mail; a message that was not delivered leaves nothing behind; a restarted relay
// resumes its queue from the state directory.
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Tenant } from '../../src/model/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { runRelay } from '../../src/relay/index.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { FakeGraphMailbox } from '../fakes/graph-mailbox.ts';
import { CONTOSO, FABRIKAM, makePolicy, send, startTestRelay, tenant, until, type TestRelay } from '../relay/helpers.ts';
import { ALICE, FakeClock, fakeReplacer, metric, openQueue, stateDir, type TestQueue } from './helpers.ts';

const withSentItems = (t: Tenant): Tenant => ({ ...t, sentItems: { update: true, scope: 'sigops sent items' } });

function mail(from: string, tenantId: string, messageId: string): string {
  return [
    `From: Sender <${from}>`,
    'To: Bob <bob@example.org>',
    'Subject: Quarterly numbers',
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    `X-MS-Exchange-CrossTenant-Id: ${tenantId}`,
    '',
    '<p>Hi Bob</p>',
    '',
  ].join('\r\n');
}

describe('relay with the Sent Items update', () => {
  let hop: NextHop;
  let graph: FakeGraphMailbox;
  let clock: FakeClock;
  let dir: string;
  let q: TestQueue;
  let relay: TestRelay;

  before(async () => {
    hop = await startNextHop();
    clock = new FakeClock();
    graph = new FakeGraphMailbox(() => clock.now());
    await graph.start();
  });
  after(async () => {
    await graph.stop();
    await hop.close();
  });
  beforeEach(async () => {
    graph.messages.length = 0;
    graph.requests.length = 0;
    graph.down = undefined;
    hop.messages.length = 0;
    hop.mode = 'accept';
    dir = await stateDir();
    q = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    relay = await startTestRelay({
      nextHop: hop,
      sentItems: q.queue,
      policy: makePolicy([withSentItems(tenant('contoso', CONTOSO, ['contoso.com'])), tenant('fabrikam', FABRIKAM, ['fabrikam.com'])]),
    });
  });

  it('queues the signed copy of a tenant with sentItems and replaces the Sent Items original with it; another tenant never reaches Graph', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<r1@contoso.com>' });
    graph.addSentItem('erin@fabrikam.com', { internetMessageId: '<r2@fabrikam.com>' });
    try {
      assert.equal((await send(relay.port, { from: ALICE, to: ['bob@example.org'] }, mail(ALICE, CONTOSO, '<r1@contoso.com>'))).ok, true);
      assert.equal((await send(relay.port, { from: 'erin@fabrikam.com', to: ['bob@example.org'] }, mail('erin@fabrikam.com', FABRIKAM, '<r2@fabrikam.com>'))).ok, true);
      assert.equal(hop.messages.length, 2);
      await until(async () => (await metric(q.registry, 'sigops_sent_items_jobs_queued_total')) === 1, 'the job is queued');
      const jobs = q.queue.snapshot();
      assert.deepEqual(jobs.map((j) => [j.tenant, j.sender, j.messageId, j.external]), [['contoso', ALICE, '<r1@contoso.com>', true]]);
      // the copy kept is what the next hop got
      const [kept] = await readdir(join(dir, 'copies'));
      assert.ok(kept);
      clock.advance(20_000);
      await q.queue.runDue();
      const [copy] = graph.sentItems(ALICE);
      assert.equal(copy?.isDraft, false);
      assert.match(copy!.body.content, /SIG-1/, 'the signature the next hop got');
      assert.equal(graph.sentItems('erin@fabrikam.com').length, 1);
      assert.equal(graph.requests.filter((r) => r.path.includes('fabrikam')).length, 0, 'fabrikam has no sentItems: Graph never called for it');
    } finally {
      await relay.stop();
      await q.queue.stop();
    }
  });

  it('delivers as usual while Graph is down, and keeps the job', async () => {
    graph.down = { status: 503 };
    graph.addSentItem(ALICE, { internetMessageId: '<down@contoso.com>' });
    try {
      const r = await send(relay.port, { from: ALICE, to: ['bob@example.org'] }, mail(ALICE, CONTOSO, '<down@contoso.com>'));
      assert.equal(r.ok, true);
      assert.equal(hop.messages.length, 1);
      await until(async () => q.queue.snapshot().length === 1, 'the job is queued');
      clock.advance(20_000);
      await q.queue.runDue();
      assert.equal(q.queue.snapshot()[0]?.state, 'pending');
      assert.equal(graph.sentItems(ALICE)[0]?.extended.size, 0, 'only the original');
    } finally {
      await relay.stop();
      await q.queue.stop();
    }
  });

  it('queues nothing and leaves no copy when the next hop refuses the message', async () => {
    hop.mode = 'reject';
    try {
      const r = await send(relay.port, { from: ALICE, to: ['bob@example.org'] }, mail(ALICE, CONTOSO, '<refused@contoso.com>'));
      assert.equal(r.ok, false);
      await until(async () => (await readdir(join(dir, 'incoming'))).length === 0, 'the copy is removed');
      assert.deepEqual(q.queue.snapshot(), []);
      assert.deepEqual(await readdir(join(dir, 'copies')), []);
    } finally {
      await relay.stop();
      await q.queue.stop();
    }
  });
});

describe('runRelay with the Sent Items update', () => {
  it('resumes the queue after a restart', async () => {
    const state = await mkdtemp(join(tmpdir(), 'sigops-sent-run-'));
    const hop = await startNextHop();
    const clock = new FakeClock();
    const graph = new FakeGraphMailbox(() => clock.now());
    await graph.start();
    graph.addSentItem(ALICE, { internetMessageId: '<restart@contoso.com>' });
    const policy = makePolicy([withSentItems(tenant('contoso', CONTOSO, ['contoso.com']))]);
    const start = () =>
      runRelay({
        config: '/nonexistent',
        loader: async () => ({ ok: true, policy, warnings: [] }),
        listen: { host: '127.0.0.1', port: 0 },
        deliver: { host: '127.0.0.1', port: hop.port },
        deliverCa: hop.cert,
        stateDir: state,
        log: silentLogger(),
        sentItems: { replacer: fakeReplacer(graph), now: clock.now, autoStart: false },
      });
    try {
      const first = await start();
      assert.equal((await send(first.smtp.port, { from: ALICE, to: ['bob@example.org'] }, mail(ALICE, CONTOSO, '<restart@contoso.com>'))).ok, true);
      await until(async () => first.sentItems.snapshot().length === 1, 'the job is queued');
      await first.stop(1000);

      const second = await start();
      try {
        assert.deepEqual(second.sentItems.snapshot().map((j) => j.messageId), ['<restart@contoso.com>']);
        clock.advance(20_000);
        assert.equal(await second.sentItems.runDue(), 1);
        assert.equal(graph.sentItems(ALICE).length, 1);
        assert.equal(graph.sentItems(ALICE)[0]!.isDraft, false);
      } finally {
        await second.stop(1000);
      }
    } finally {
      await graph.stop();
      await hop.close();
    }
  });
});
