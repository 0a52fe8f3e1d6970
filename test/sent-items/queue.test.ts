// The Sent Items queue against the Graph mailbox fake: the signed copy takes the original's place
// once, retries (late original, throttling, Graph down for an hour) stay within their bounds, a
// restart resumes the queue, and split copies of one message make one job.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { jobKey } from '../../src/sent-items/index.ts';
import { FakeGraphMailbox } from '../fakes/graph-mailbox.ts';
import { until } from '../relay/helpers.ts';
import { ALICE, FakeClock, TENANT_ID, enqueue, fakeReplacer, metric, openQueue, stateDir } from './helpers.ts';

describe('Sent Items queue', () => {
  let clock: FakeClock;
  let graph: FakeGraphMailbox;
  let dir: string;

  before(async () => {
    clock = new FakeClock();
    graph = new FakeGraphMailbox(() => clock.now());
    await graph.start();
  });
  after(() => graph.stop());
  beforeEach(async () => {
    graph.messages.length = 0;
    graph.requests.length = 0;
    graph.down = undefined;
    dir = await stateDir();
  });

  it('replaces the original once: a non-draft copy with the original properties, the original deleted', async () => {
    const original = graph.addSentItem(ALICE, {
      internetMessageId: '<m1@contoso.com>',
      to: ['bob@example.org'],
      bcc: ['audit@contoso.com'],
      categories: ['Red category'],
      sentDateTime: '2026-11-30T07:59:58Z',
      attachments: [{ '@odata.type': '#microsoft.graph.fileAttachment', name: 'q3.pdf', contentType: 'application/pdf', contentBytes: Buffer.from('%PDF').toString('base64') }],
    });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    await enqueue(queue, { messageId: '<m1@contoso.com>' });
    assert.equal(await queue.runDue(), 0, 'the first attempt waits for the original to settle');
    clock.advance(20_000);
    assert.equal(await queue.runDue(), 1);

    const items = graph.sentItems(ALICE);
    assert.equal(items.length, 1);
    const copy = items[0]!;
    assert.notEqual(copy.id, original.id);
    assert.equal(original.folder, 'deleteditems');
    assert.equal(copy.isDraft, false);
    assert.equal(copy.isRead, true);
    assert.equal(copy.sentDateTime, '2026-11-30T07:59:58Z');
    assert.equal(copy.internetMessageId, '<m1@contoso.com>');
    assert.deepEqual(copy.bccRecipients, [{ emailAddress: { address: 'audit@contoso.com' } }]);
    assert.deepEqual(copy.categories, ['Red category']);
    assert.deepEqual(copy.attachments.map((a) => a.name), ['q3.pdf']);
    assert.equal(copy.body.contentType, 'html');
    assert.match(copy.body.content, /SIGNED – Contoso/);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_done_total', { result: 'replaced' }), 1);
    // nothing of the copy is left on disk; the job is remembered for the dedupe window only
    assert.deepEqual(await readdir(join(dir, 'copies')), []);
    const [job] = queue.snapshot();
    assert.equal(job?.state, 'done');

    // the same message again (a late split copy): no second job, Graph not called
    const before = graph.requests.length;
    await enqueue(queue, { messageId: '<m1@contoso.com>' });
    clock.advance(60_000);
    await queue.runDue();
    assert.equal(graph.requests.length, before);
    assert.equal(graph.sentItems(ALICE).length, 1);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'duplicate' }), 1);
  });

  it('is idempotent: an attempt cut off after the creation leaves one copy when retried', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<m2@contoso.com>' });
    const replace = fakeReplacer(graph);
    let cut = true;
    const { queue, registry } = await openQueue({
      dir,
      clock,
      replacer: async (job, read) => {
        const outcome = await replace(job, read);
        if (cut) {
          // the relay died after Graph created the copy, before the original was deleted
          cut = false;
          const made = graph.sentItems(ALICE).find((m) => !m.isDraft && m.extended.size > 0)!;
          graph.messages.filter((m) => m.internetMessageId === '<m2@contoso.com>' && m !== made).forEach((m) => (m.folder = 'sentitems'));
          return { kind: 'retry', reason: 'internal' };
        }
        return outcome;
      },
    });
    await enqueue(queue, { messageId: '<m2@contoso.com>' });
    clock.advance(20_000);
    await queue.runDue();
    assert.equal(graph.sentItems(ALICE).length, 2, 'original and copy, as after a crash');
    clock.advance(60_000);
    await queue.runDue();
    const left = graph.sentItems(ALICE);
    assert.equal(left.length, 1);
    assert.equal(left[0]!.isDraft, false);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_done_total', { result: 'already-replaced' }), 1);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_retried_total', { reason: 'internal' }), 1);
  });

  it('waits for an original that shows up late, and gives up on one that never does', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<late@contoso.com>', visibleAfterMs: 45_000 });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock, bounds: { appearWithinMs: 5 * 60_000 } });
    await enqueue(queue, { messageId: '<late@contoso.com>' });
    await enqueue(queue, { messageId: '<never@contoso.com>' });
    for (let i = 0; i < 60; i++) {
      clock.advance(10_000);
      await queue.runDue();
    }
    assert.equal(graph.sentItems(ALICE).length, 1);
    assert.equal(graph.sentItems(ALICE)[0]!.isDraft, false);
    assert.ok((await metric(registry, 'sigops_sent_items_jobs_retried_total', { reason: 'original-not-visible' })) >= 2);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_done_total'), 1);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'original-not-found' }), 1);
    assert.equal(queue.snapshot().filter((j) => j.state === 'pending').length, 0);
  });

  it('honours Retry-After when Graph throttles', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<busy@contoso.com>' });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    await enqueue(queue, { messageId: '<busy@contoso.com>' });
    clock.advance(20_000);
    graph.throttleNext(3, 120); // every attempt of the call (3) is throttled
    await queue.runDue();
    const [job] = queue.snapshot();
    assert.equal(job?.state, 'pending');
    assert.ok(job!.notBefore - clock.now() >= 120_000, 'not before Graph asked');
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_retried_total', { reason: 'graph-unavailable' }), 1);
    clock.advance(119_000);
    assert.equal(await queue.runDue(), 0);
    clock.advance(1000);
    await queue.runDue();
    assert.equal(graph.sentItems(ALICE).length, 1);
    assert.equal(queue.snapshot()[0]?.state, 'done');
  });

  it('keeps jobs through an hour of Graph being down, within their bounds, then finishes them', async () => {
    for (let i = 0; i < 3; i++) graph.addSentItem(ALICE, { internetMessageId: `<down${i}@contoso.com>` });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock, bounds: { maxJobs: 2 } });
    graph.down = { status: 503 };
    for (let i = 0; i < 3; i++) await enqueue(queue, { messageId: `<down${i}@contoso.com>` });
    // the size bound: the oldest job went to make room
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'queue-full' }), 1);
    let attempts = 0;
    for (let t = 0; t < 3600_000; t += 30_000) {
      clock.advance(30_000);
      attempts += await queue.runDue();
    }
    const pending = queue.snapshot().filter((j) => j.state === 'pending');
    assert.equal(pending.length, 2);
    assert.equal((await readdir(join(dir, 'copies'))).length, 2);
    // back-off: far fewer attempts than ticks (a retry every 10 min at most, once it settled)
    assert.ok(attempts < 30, `attempts ${attempts}`);
    assert.ok(await metric(registry, 'sigops_sent_items_oldest_job_age_seconds') >= 3600);
    graph.down = undefined;
    clock.advance(10 * 60_000);
    await queue.runDue();
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_done_total'), 2);
    assert.equal(graph.sentItems(ALICE).filter((m) => m.extended.size > 0).length, 2);
  });

  it('drops a job that is not done within its time', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<old@contoso.com>' });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock, bounds: { maxAgeMs: 30 * 60_000 } });
    graph.down = { status: 503 };
    await enqueue(queue, { messageId: '<old@contoso.com>' });
    for (let t = 0; t < 3600_000; t += 60_000) {
      clock.advance(60_000);
      await queue.runDue();
    }
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'expired' }), 1);
    assert.deepEqual(queue.snapshot(), []);
    assert.deepEqual(await readdir(join(dir, 'copies')), []);
    assert.deepEqual(await readdir(join(dir, 'jobs')), []);
  });

  it('resumes the queue after a restart from the state directory', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<restart@contoso.com>' });
    const first = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    await enqueue(first.queue, { messageId: '<restart@contoso.com>' });
    await first.queue.stop();
    const key = jobKey(TENANT_ID, ALICE, '<restart@contoso.com>');
    const onDisk = JSON.parse(await readFile(join(dir, 'jobs', `${key}.json`), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(onDisk).sort(), ['attempts', 'bytes', 'external', 'key', 'messageId', 'notBefore', 'queuedAt', 'sender', 'state', 'tenant', 'tenantId', 'version']);
    // a half-written copy of a message in flight at the time of the crash
    await writeFile(join(dir, 'incoming', 'half.part'), 'From: a');
    const second = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    assert.deepEqual(await readdir(join(dir, 'incoming')), []);
    clock.advance(20_000);
    assert.equal(await second.queue.runDue(), 1);
    assert.equal(graph.sentItems(ALICE).length, 1);
    assert.equal(graph.sentItems(ALICE)[0]!.isDraft, false);
  });

  it('drops a resumed job whose copy is gone, and a job for a mailbox the app may not open', async () => {
    graph.addSentItem('carol@contoso.com', { internetMessageId: '<scope@contoso.com>' });
    graph.forbid('carol@contoso.com');
    const first = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    await enqueue(first.queue, { messageId: '<gone@contoso.com>' });
    await enqueue(first.queue, { messageId: '<scope@contoso.com>', sender: 'carol@contoso.com' });
    await rm(join(dir, 'copies', `${jobKey(TENANT_ID, ALICE, '<gone@contoso.com>')}.eml`));
    const second = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    assert.equal(await metric(second.registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'copy-missing' }), 1);
    clock.advance(20_000);
    await second.queue.runDue();
    assert.equal(await metric(second.registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'forbidden' }), 1);
    assert.equal(graph.messages.find((m) => m.internetMessageId === '<scope@contoso.com>')?.folder, 'sentitems', 'the original stays');
  });

  it('works through the queue on its own once started, batch after batch', async () => {
    for (let i = 0; i < 6; i++) graph.addSentItem(ALICE, { internetMessageId: `<loop${i}@contoso.com>` });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock, bounds: { firstAttemptDelayMs: 0, tickMs: 10, concurrency: 2 } });
    for (let i = 0; i < 6; i++) await enqueue(queue, { messageId: `<loop${i}@contoso.com>` });
    queue.start();
    try {
      await until(async () => (await metric(registry, 'sigops_sent_items_jobs_done_total')) === 6, 'every job done');
    } finally {
      await queue.stop();
    }
    assert.equal(graph.sentItems(ALICE).length, 6);
    assert.ok(graph.sentItems(ALICE).every((m) => !m.isDraft && m.extended.size > 0));
  });

  it('makes one job of a message Exchange split: the external copy takes over from an internal one', async () => {
    graph.addSentItem(ALICE, { internetMessageId: '<split@contoso.com>' });
    const { queue, registry } = await openQueue({ dir, replacer: fakeReplacer(graph), clock });
    await enqueue(queue, { messageId: '<split@contoso.com>', marker: 'INTERNAL-SIG', external: false });
    await enqueue(queue, { messageId: '<split@contoso.com>', marker: 'EXTERNAL-SIG', external: true });
    await enqueue(queue, { messageId: '<split@contoso.com>', marker: 'SECOND-EXTERNAL', external: true });
    assert.equal(queue.snapshot().length, 1);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_queued_total'), 1);
    assert.equal(await metric(registry, 'sigops_sent_items_jobs_dropped_total', { reason: 'duplicate' }), 2);
    clock.advance(20_000);
    await queue.runDue();
    const [copy] = graph.sentItems(ALICE);
    assert.match(copy!.body.content, /EXTERNAL-SIG/);
    assert.deepEqual(await readdir(join(dir, 'copies')), []);
  });
});
