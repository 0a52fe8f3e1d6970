// Every message of the shared corpus through the relay (in-process, real config from
// example-config, capturing next hop): each one is delivered exactly once, with the original
// envelope; passed-through messages keep their body byte for byte (the S/MIME one included). A
// corpus message that already carries a tenant header (a bounce that went through Exchange
// Online) has two once ours is added, and is refused: fail closed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { silentLogger } from '../../src/log/index.ts';
import { WorkerPartSigner } from '../../src/mime/index.ts';
import { PolicyStore, Relay, RelayMetrics, SmtpDelivery } from '../../src/relay/index.ts';
import { startNextHop, testCertificate, type NextHop } from '../fakes/next-hop.ts';
import { PROJECT } from './relay-process.ts';
import { CORPUS_MISSING, corpusFiles } from '../corpus.ts';

const CONTOSO = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';

/** Body bytes after the header block, line endings normalised to CRLF as SMTP carries them. */
function body(raw: Buffer): Buffer {
  const s = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  const i = s.indexOf('\r\n\r\n');
  return Buffer.from(i < 0 ? '' : s.slice(i + 4), 'latin1');
}

describe('the corpus through the relay', { skip: CORPUS_MISSING }, () => {
  let hop: NextHop;
  let relay: Relay;
  let delivery: SmtpDelivery;
  // a low threshold sends most text parts through the worker thread, as large ones go in production
  const signer = new WorkerPartSigner({ minBytes: 1024 });
  before(async () => {
    hop = await startNextHop();
    const log = silentLogger();
    const metrics = new RelayMetrics();
    const store = new PolicyStore(join(PROJECT, 'example-config'), log, metrics);
    assert.equal(await store.reload(), true);
    delivery = new SmtpDelivery({ override: { host: '127.0.0.1', port: hop.port }, name: 'relay.test', ca: hop.cert });
    relay = new Relay({ listen: { host: '127.0.0.1', port: 0 }, hostname: 'relay.test', tls: await testCertificate(), store, delivery, log, metrics, signer });
    await relay.start();
  });
  after(async () => {
    await relay.shutdown(1000);
    await delivery.close();
    await signer.close();
    await hop.close();
  });

  it('delivers every message once, signs where it can, leaves the others byte-identical', async () => {
    const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port: relay.address!.port, requireTLS: true, maxConnections: 4, tls: { rejectUnauthorized: false } });
    const files = corpusFiles();
    assert.ok(files.length > 30);
    let signed = 0;
    let refused = 0;
    try {
      for (const file of files) {
        const original = readFileSync(file);
        const raw = Buffer.concat([Buffer.from(`X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\n`), original]);
        const before = hop.messages.length;
        const head = original.toString('latin1').split(/\r?\n\r?\n/)[0]!;
        if (/^X-MS-Exchange-CrossTenant-Id:/im.test(head)) {
          await assert.rejects(transport.sendMail({ envelope: { from: 'alice@contoso.com', to: ['bob@example.org'] }, raw }), /550 5\.7\.1 .*2 X-MS-Exchange-CrossTenant-Id headers/);
          assert.equal(hop.messages.length, before, file);
          refused++;
          continue;
        }
        const info = await transport.sendMail({ envelope: { from: 'alice@contoso.com', to: ['bob@example.org'] }, raw });
        assert.match(info.response, /^250 /, file);
        assert.equal(hop.messages.length, before + 1, file);
        const got = hop.messages.at(-1)!;
        assert.deepEqual([got.from, got.to], ['alice@contoso.com', ['bob@example.org']], file);
        const text = got.raw.toString('latin1');
        assert.match(text, /^Received: from /, file);
        assert.equal(text.match(/^X-Sigops-Processed: true\r?$/gim)?.length, 1, file);
        const same = body(got.raw).equals(body(original));
        if (!same) signed++;
        if (/smime/.test(file)) assert.ok(same, `${file} must pass through unchanged`);
      }
    } finally {
      transport.close();
    }
    assert.ok(signed >= 15, `only ${signed} corpus messages were signed`);
    assert.equal(refused, 1, 'mimekit/bounce.txt carries a tenant header of its own');
  });
});
