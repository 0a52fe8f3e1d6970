// Large text parts signed on a worker thread: the same bytes as on the event loop, a fallback
// when the worker fails, an unchanged pass when it takes too long, and one when signing throws.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { WorkerPartSigner, type PartSigner, type SigningChoice } from '../../src/mime/index.ts';
import { signParts } from '../../src/mime/parts.ts';
import { CORPUS_MISSING, corpusFiles } from '../corpus.ts';
import { sign, verifyOutput } from './helpers.ts';

const corpus = (): Buffer[] => corpusFiles().map((f) => readFileSync(f));

const big = (): Buffer => {
  const para = 'A line of the quarterly report, long enough to matter when there are many of them.\r\n';
  return Buffer.from(
    ['From: Alice <alice@contoso.com>', 'To: Bob <bob@example.org>', 'Subject: report', 'Content-Type: text/plain; charset=utf-8', '', 'Hi Bob,', '', para.repeat(4000)].join('\r\n'),
  );
};

describe('signing on a worker thread', () => {
  const worker = new WorkerPartSigner({ minBytes: 0 });
  after(() => worker.close());

  it('gives every corpus message the same bytes and outcome as signing on the event loop', { skip: CORPUS_MISSING }, async () => {
    let viaWorker = 0;
    for (const msg of corpus()) {
      const here = await sign(msg, undefined, { chunk: 4096 });
      const there = await sign(msg, undefined, { chunk: 4096, options: { signer: worker } });
      assert.deepEqual(there.outcome, here.outcome);
      assert.ok(there.out.equals(here.out));
      if (here.outcome.signed) {
        verifyOutput(msg, there.out, there.outcome);
        viaWorker++;
      }
    }
    assert.ok(viaWorker > 20, `${viaWorker} signed`);
  });

  it('signs on the event loop when the worker fails', async () => {
    const failing: PartSigner = { minBytes: 0, sign: () => Promise.reject(new Error('worker died')) };
    const msg = big();
    const here = await sign(msg);
    const fallback = await sign(msg, undefined, { options: { signer: failing } });
    assert.equal(fallback.outcome.signed, true);
    assert.ok(fallback.out.equals(here.out));
  });

  it('passes the parts unchanged when the signer gives up', async () => {
    const slow: PartSigner = { minBytes: 0, sign: async () => ({ kind: 'gave-up', detail: 'signing took longer than 10 ms' }) };
    const msg = big();
    const r = await sign(msg, undefined, { options: { signer: slow } });
    assert.deepEqual(r.outcome, { signed: false, reason: 'too-large', detail: 'signing took longer than 10 ms' });
    assert.equal(r.out.toString('latin1'), msg.toString('latin1').replace('\r\n\r\n', '\r\nX-Sigops-Processed: true\r\n\r\n'));
  });

  it('gives up on a job that outlives its timeout: the parts pass unchanged', async () => {
    const problems: string[] = [];
    const impatient = new WorkerPartSigner({ minBytes: 0, timeoutMs: 1, onProblem: (m) => problems.push(m) });
    try {
      // the first job includes starting the worker: far more than 1 ms
      const r = await sign(big(), undefined, { options: { signer: impatient } });
      assert.equal(r.outcome.reason, 'too-large');
      assert.match(r.outcome.detail ?? '', /longer than 1 ms/);
      assert.deepEqual(problems, ['signing a large text part took longer than 1 ms; it passed unsigned']);
    } finally {
      await impatient.close();
    }
    const patient = new WorkerPartSigner({ minBytes: 0 });
    try {
      const r = await sign(big(), undefined, { options: { signer: patient } });
      assert.equal(r.outcome.signed, true);
    } finally {
      await patient.close();
    }
  });

  it('only sends parts of at least minBytes to the worker', async () => {
    let sent = 0;
    const counting: PartSigner = {
      minBytes: 64 * 1024,
      sign: async (parts, plan, eol) => {
        sent++;
        return signParts(parts, plan, eol);
      },
    };
    await sign(Buffer.from('From: a@contoso.com\r\nContent-Type: text/plain\r\n\r\nHi\r\n'), undefined, { options: { signer: counting } });
    assert.equal(sent, 0);
    await sign(big(), undefined, { options: { signer: counting } });
    assert.equal(sent, 1);
  });
});

describe('signing that throws fails open', () => {
  // blocks whose HTML cannot be read stand for any exception while the signature is inserted
  const exploding = (): SigningChoice => ({
    kind: 'sign',
    placement: 'reply',
    rule: 'r',
    blocks: Object.defineProperties({}, {
      html: { enumerable: true, get: () => { throw new RangeError('insertion failed'); } },
      text: { enumerable: true, get: () => { throw new RangeError('insertion failed'); } },
    }) as { html: string; text: string },
  });

  it('on the event loop and after a failed worker: the original message, reason sign-failed', async () => {
    const failing: PartSigner = { minBytes: 0, sign: () => Promise.reject(new Error('worker died')) };
    for (const options of [{}, { signer: failing }]) {
      const input = big();
      const r = await sign(input, exploding(), { chunk: 4096, options });
      assert.equal(r.outcome.signed, false);
      assert.equal(r.outcome.reason, 'sign-failed');
      assert.match(r.outcome.detail ?? '', /signing failed: insertion failed/);
      assert.ok(r.out.toString('latin1').endsWith(input.toString('latin1').slice(-2000)), 'the body went out unchanged');
          }
  });
});
