// Why the signed copy is created as JSON with PidTagMessageFlags: in Graph (and in the fake that
// plays it) a message created in MIME format, or in JSON without the flags, is a draft; the flags
// given at creation without mfUnsent make a sent message, with the submit and delivery times given.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeGraphMailbox } from '../fakes/graph-mailbox.ts';

describe('Graph mailbox fake: draft or not', () => {
  const graph = new FakeGraphMailbox();
  before(async () => {
    await graph.start();
    graph.addUser('alice@contoso.com');
  });
  after(() => graph.stop());
  const post = (body: string, type: string) =>
    fetch(`${graph.url}/v1.0/users/alice@contoso.com/mailFolders/sentitems/messages`, { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': type }, body });

  it('a MIME upload is a draft', async () => {
    const mime = Buffer.from('From: alice@contoso.com\r\nSubject: hi\r\nMessage-ID: <x@contoso.com>\r\n\r\nbody\r\n').toString('base64');
    const res = await post(mime, 'text/plain');
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { isDraft: boolean }).isDraft, true);
  });

  it('JSON without PidTagMessageFlags is a draft; with the flags (no mfUnsent) it is not', async () => {
    const plain = await post(JSON.stringify({ subject: 'a', body: { contentType: 'text', content: 'b' } }), 'application/json');
    assert.equal(((await plain.json()) as { isDraft: boolean }).isDraft, true);
    const flagged = await post(
      JSON.stringify({
        subject: 'a',
        body: { contentType: 'text', content: 'b' },
        singleValueExtendedProperties: [
          { id: 'Integer 0x0E07', value: '1' },
          { id: 'SystemTime 0x0039', value: '2026-11-30T07:00:00Z' },
        ],
      }),
      'application/json',
    );
    const m = (await flagged.json()) as { isDraft: boolean; sentDateTime: string; isRead: boolean };
    assert.deepEqual([m.isDraft, m.isRead, m.sentDateTime], [false, true, '2026-11-30T07:00:00Z']);
  });

  it('deleting twice: 204, then 404 ErrorItemNotFound', async () => {
    const m = graph.addSentItem('alice@contoso.com', { internetMessageId: '<d@contoso.com>' });
    const del = () => fetch(`${graph.url}/v1.0/users/alice@contoso.com/messages/${m.id}`, { method: 'DELETE', headers: { Authorization: 'Bearer t' } });
    assert.equal((await del()).status, 204);
    const again = await del();
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'ErrorItemNotFound');
  });
});
