// The signMessage contract the relay relies on: choose once, before any output; a throwing
// choose writes nothing and drains the input; every message leaves with X-Sigops-Processed;
// pass-through reasons decided from headers and structure, bodies byte-identical.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { signMessage, type MessageHeaders, type SigningChoice } from '../../src/mime/index.ts';
import { Collector, SIGN, chunked, sign, verifyOutput } from './helpers.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'mail');

const msg = (headers: string, body = 'Hello Bob,\r\nsee you.\r\n'): Buffer =>
  Buffer.from(`From: Alice <alice@contoso.com>\r\nTo: bob@fabrikam.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n${headers}\r\n${body}`, 'latin1');

/** The original bytes plus our header at the end of the header block. */
function passedUnchanged(input: Buffer, out: Buffer): void {
  const s = input.toString('latin1');
  const end = s.search(/\r?\n\r?\n/);
  const eol = s.includes('\r\n') ? '\r\n' : '\n';
  const expected = s.slice(0, end) + eol + 'X-Sigops-Processed: true' + s.slice(end);
  assert.equal(out.toString('latin1'), expected);
}

describe('choose', () => {
  it('is called exactly once with the top-level headers, before anything is written', async () => {
    const out = new Collector();
    let calls = 0;
    let seen: MessageHeaders | undefined;
    const outcome = await signMessage(chunked(readFileSync(join(FIX, 'gmail.eml')), 7), out, (h) => {
      calls++;
      seen = h;
      assert.equal(out.chunks.length, 0, 'nothing written before choose');
      return SIGN;
    });
    assert.equal(calls, 1);
    assert.equal(seen!.get('subject'), 'Re: Quote for 40 units');
    assert.deepEqual(seen!.from(), { address: 'alice@contoso.com', name: 'Alice Example' });
    assert.equal(outcome.signed, true);
    assert.equal(outcome.rule, 'default');
    assert.ok(out.writableFinished, 'output ended');
  });

  for (const kind of ['throws', 'rejects'] as const) {
    it(`${kind}: nothing is written, the input is drained, the same error comes back`, async () => {
      const big = Buffer.concat([msg('Content-Type: text/plain\r\n'), Buffer.alloc(3 * 1024 * 1024, 'x')]);
      const input = chunked(big, 16 * 1024);
      let ended = false;
      input.on('end', () => (ended = true));
      const out = new Collector();
      const err = new Error('550 not yours');
      const choose = kind === 'throws' ? (): SigningChoice => { throw err; } : async (): Promise<SigningChoice> => { throw err; };
      await assert.rejects(signMessage(input, out, choose), (e) => e === err);
      assert.equal(out.chunks.length, 0, 'nothing written');
      assert.equal(out.writableEnded, false, 'output left alone');
      assert.ok(ended, 'input drained to its end');
    });
  }

  it('an async choose works like a sync one', async () => {
    const input = readFileSync(join(FIX, 'owa.eml'));
    const a = await sign(input, async () => SIGN);
    const b = await sign(input, () => SIGN);
    assert.ok(a.out.equals(b.out));
  });

  it('pass from choose: unchanged, reason policy with the detail', async () => {
    const input = readFileSync(join(FIX, 'owa.eml'));
    const { out, outcome } = await sign(input, { kind: 'pass', reason: 'tenant-paused' });
    assert.deepEqual(outcome, { signed: false, reason: 'policy', detail: 'tenant-paused' });
    passedUnchanged(input, out);
  });

  it('writes after what the caller put on the output first (the relay writes Received)', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const input = msg('Content-Type: text/plain\r\n');
    await signMessage(Readable.from([input]), out, () => {
      out.write('Received: from x\r\n');
      return SIGN;
    });
    assert.match(Buffer.concat(chunks).toString(), /^Received: from x\r\nFrom: Alice/);
  });
});

describe('pass through unchanged, with a reason', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['multipart/signed (S/MIME)', msg('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"\r\n', '--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--b--\r\n'), 'smime'],
    ['multipart/signed (PGP)', msg('Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary="b"\r\n', '--b\r\n\r\nhi\r\n--b--\r\n'), 'pgp'],
    ['multipart/encrypted', msg('Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n', '--b--\r\n'), 'pgp'],
    ['application/pkcs7-mime', msg('Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n', 'MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n'), 'smime'],
    ['application/x-pkcs7-mime', msg('Content-Type: application/x-pkcs7-mime; name=smime.p7m\r\n', 'MIAG\r\n'), 'smime'],
    ['inline PGP', msg('Content-Type: text/plain\r\n', '-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nhi\r\n-----BEGIN PGP SIGNATURE-----\r\n'), 'pgp'],
    ['text/calendar', msg('Content-Type: text/calendar; method=REQUEST\r\n', 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'), 'calendar'],
    ['Content-Class calendarmessage', msg('Content-Class: urn:content-classes:calendarmessage\r\nContent-Type: text/plain\r\n'), 'calendar'],
    ['Auto-Submitted: auto-replied', msg('Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n'), 'auto-reply'],
    ['Auto-Submitted: auto-generated (comment)', msg('Auto-Submitted: auto-generated (vacation)\r\nContent-Type: text/plain\r\n'), 'auto-reply'],
    ['Return-Path: <>', msg('Return-Path: <>\r\nContent-Type: text/plain\r\n'), 'auto-reply'],
    ['multipart/report', msg('Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n', '--b\r\n\r\nx\r\n--b--\r\n'), 'report'],
    ['message/delivery-status part', msg('Content-Type: multipart/mixed; boundary="b"\r\n', '--b\r\nContent-Type: message/delivery-status\r\n\r\nx\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n'), 'report'],
    ['message/disposition-notification', msg('Content-Type: message/disposition-notification\r\n', 'Final-Recipient: rfc822;a@b\r\n'), 'report'],
    ['message/feedback-report', msg('Content-Type: message/feedback-report\r\n', 'Feedback-Type: abuse\r\n'), 'report'],
    ['TNEF', readFileSync(join(FIX, 'tnef.eml')), 'tnef'],
    ['TNEF by file name', msg('Content-Type: multipart/mixed; boundary="b"\r\n', '--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name="winmail.dat"\r\n\r\nx\r\n--b--\r\n'), 'tnef'],
    ['invitation in the alternative', readFileSync(join(FIX, 'invitation.eml')), 'calendar'],
    ['multipart without boundary', msg('Content-Type: multipart/mixed\r\n', '--b\r\n\r\nhi\r\n--b--\r\n'), 'unparseable'],
    ['no text part', msg('Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n', 'iVBORw0KGgo=\r\n'), 'no-text-part'],
    ['text attachment only', msg('Content-Type: text/plain; name="a.txt"\r\nContent-Disposition: attachment; filename="a.txt"\r\n'), 'no-text-part'],
  ];
  for (const [name, input, reason] of cases) {
    it(`${name} → ${reason}`, async () => {
      const { out, outcome } = await sign(input);
      assert.equal(outcome.signed, false);
      assert.equal(outcome.reason, reason, JSON.stringify(outcome));
      passedUnchanged(input, out);
    });
  }

  it('already X-Sigops-Processed: byte-identical, no second header', async () => {
    const input = msg('X-Sigops-Processed: true\r\nContent-Type: text/plain\r\n');
    const { out, outcome } = await sign(input);
    assert.equal(outcome.reason, 'already-processed');
    assert.ok(out.equals(input));
  });

  it('Auto-Submitted: no is signed', async () => {
    const { outcome } = await sign(msg('Auto-Submitted: no\r\nContent-Type: text/plain\r\n'));
    assert.equal(outcome.signed, true);
  });

  it('a text part over the limit passes as too-large, byte for byte', async () => {
    const input = readFileSync(join(FIX, 'owa.eml'));
    const { out, outcome } = await sign(input, SIGN, { options: { maxTextBytes: 200 } });
    assert.equal(outcome.reason, 'too-large');
    passedUnchanged(input, out);
    const single = msg('Content-Type: text/plain\r\n', 'x'.repeat(5000) + '\r\n');
    const r = await sign(single, SIGN, { options: { maxTextBytes: 1000 }, chunk: 100 });
    assert.equal(r.outcome.reason, 'too-large');
    passedUnchanged(single, r.out);
  });

  it('an unknown charset leaves that part unchanged and signs the other', async () => {
    const input = msg(
      'Content-Type: multipart/alternative; boundary="b"\r\n',
      '--b\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nHello\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>\r\n--b--\r\n',
    );
    const { out, outcome } = await sign(input);
    assert.equal(outcome.signed, true);
    assert.match(outcome.detail ?? '', /plain: unknown charset x-martian/);
    assert.match(out.toString(), /charset=x-martian\r\n\r\nHello\r\n--b\r\n/);
    verifyOutput(input, out, outcome);
  });
});

describe('encodings of the signed parts', () => {
  it('a 7bit part that needs 8-bit text switches to quoted-printable in the part header only', async () => {
    const input = readFileSync(join(FIX, 'apple-mail.eml'));
    const { out, outcome } = await sign(input);
    verifyOutput(input, out, outcome);
    const s = out.toString('latin1');
    const textHead = s.slice(s.indexOf('--Apple-Mail'), s.indexOf('\r\n\r\n', s.indexOf('--Apple-Mail')));
    assert.match(textHead, /Content-Transfer-Encoding: quoted-printable/);
    assert.match(textHead, /charset=utf-8/);
    assert.doesNotMatch(s.slice(0, s.indexOf('\r\n\r\n')), /quoted-printable/, 'message header untouched');
  });

  it('an ASCII signature keeps a 7bit us-ascii part 7bit and its bytes as they were', async () => {
    const input = readFileSync(join(FIX, 'apple-mail.eml'));
    const { out, outcome } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '<p>Alice</p>', text: 'Alice' } });
    assert.equal(outcome.detail, undefined);
    const s = out.toString('latin1');
    assert.match(s, /Content-Transfer-Encoding: 7bit\r\nContent-Type: text\/plain;\r\n\tcharset=us-ascii\r\n\r\nPerfect, thank you\.\r\n\r\n-- \r\nAlice\r\n\r\n> On 3 Nov/);
  });

  it('ISO-2022-JP stays ISO-2022-JP when the signature fits it', async () => {
    const input = readFileSync(join(FIX, 'plain-iso-2022-jp.eml'));
    const { out, outcome } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '', text: 'アリス・エグザンプル\nContoso' } });
    assert.equal(outcome.signed, true);
    assert.equal(outcome.detail, undefined);
    const text = new TextDecoder('iso-2022-jp').decode(out.subarray(out.indexOf('\r\n\r\n') + 4));
    assert.match(text, /アリス\r\n\r\n-- \r\nアリス・エグザンプル\r\nContoso\r\n\r\n2025\/11\/03/);
    assert.ok(!/[\x80-\xff]/.test(out.toString('latin1')));
  });

  it('undeclared 8-bit text that is valid UTF-8 is relabelled utf-8, its bytes kept', async () => {
    const input = Buffer.concat([Buffer.from('From: a@contoso.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from('Grüße, Bob\r\n', 'utf8')]);
    const { out, outcome } = await sign(input);
    assert.equal(outcome.signed, true);
    assert.equal(out.toString('utf8'), 'From: a@contoso.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Sigops-Processed: true\r\n\r\nGrüße, Bob\r\n-- \r\nAlice Example | Sales Lead\r\nContoso Ltd – Seattle\r\n');
  });

  it('base64 that does not decode cleanly (padding in the middle) leaves that part unchanged', async () => {
    const input = Buffer.from('From: a@contoso.com\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGk=\r\nQm9i\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b--\r\n');
    const { out, outcome } = await sign(input);
    assert.equal(outcome.signed, true);
    assert.match(outcome.detail ?? '', /plain: base64 body does not decode cleanly/);
    assert.match(out.toString(), /\r\n\r\nSGk=\r\nQm9i\r\n--b\r\n/);
    verifyOutput(input, out, outcome);
  });

  it('non-ASCII in inserted HTML becomes character references (valid in any charset)', async () => {
    const input = readFileSync(join(FIX, 'outlook-2010-b5c4df.eml'));
    const { out, outcome } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '<p>Grüße – Zoë 😀</p>', text: 'x' } });
    verifyOutput(input, out, outcome);
    assert.match(out.toString('latin1'), /Gr&#252;&#223;e &#8211; Zo&#235; &#128512;/);
  });

  it('format=flowed: inserted lines carry no trailing space but the delimiter, and are space-stuffed', async () => {
    const input = Buffer.from('From: a@contoso.com\nContent-Type: text/plain; charset=utf-8; format=flowed\n\nThis is a flowed \nparagraph.\n\nOn Mon, Bob wrote:\n> hi\n');
    const { out } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '', text: 'Alice   \n>not a quote\nFrom here' } });
    const body = out.toString().split('\n\n').slice(1).join('\n\n');
    assert.equal(body, 'This is a flowed \nparagraph.\n\n-- \nAlice\n >not a quote\n From here\n\nOn Mon, Bob wrote:\n> hi\n');
  });

  it('format=flowed: a soft line right above the insertion point is ended first', async () => {
    const input = Buffer.from('From: a@contoso.com\nContent-Type: text/plain; format=flowed\n\nSee you \nOn Mon, Bob wrote:\n> hi\n');
    const { out } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: '', text: 'Alice' } });
    assert.match(out.toString(), /\n\nSee you \n\n-- \nAlice\n\nOn Mon, Bob wrote:\n/);
  });

  it('long inserted HTML lines are folded under 998 characters', async () => {
    const long = '<p>' + 'word '.repeat(600) + '</p>';
    const input = readFileSync(join(FIX, 'thunderbird.eml'));
    const { out, outcome } = await sign(input, { kind: 'sign', placement: 'reply', blocks: { html: long, text: 'x' } });
    verifyOutput(input, out, outcome);
  });

  it('LF input stays LF, CRLF input stays CRLF', async () => {
    for (const file of ['thunderbird.eml', 'owa.eml']) {
      const input = readFileSync(join(FIX, file));
      const { out } = await sign(input);
      const crlf = input.includes('\r\n');
      assert.equal(/(?<!\r)\n/.test(out.toString('latin1')), !crlf, `${file}: bare LF only if the input had them`);
    }
  });
});

describe('failures of the output', () => {
  it('an output that fails mid-message rejects signMessage and still drains the input', async () => {
    const input = Buffer.concat([readFileSync(join(FIX, 'owa.eml')), Buffer.alloc(2 * 1024 * 1024, 'z')]);
    const src = chunked(input, 8192);
    let ended = false;
    src.on('end', () => (ended = true));
    let written = 0;
    const failing = new Writable({
      write(chunk: Buffer, _e, cb) {
        written += chunk.length;
        cb(written > 20000 ? new Error('next hop went away') : null);
      },
    });
    await assert.rejects(signMessage(src, failing, () => SIGN), /next hop went away/);
    assert.ok(ended, 'input drained');
  });
});

describe('failures of the input', () => {
  it('an input that fails mid-message rejects, and the output is destroyed, never ended', async () => {
    const head = readFileSync(join(FIX, 'owa.eml')).subarray(0, 3000);
    const src = new Readable({ read() {} });
    src.push(head);
    setImmediate(() => src.destroy(new Error('connection reset')));
    const out = new PassThrough();
    out.resume();
    let ended = false;
    out.on('end', () => (ended = true));
    out.on('error', () => undefined);
    await assert.rejects(signMessage(src, out, () => SIGN), /connection reset/);
    assert.equal(ended, false, 'the next hop never sees a clean end');
    assert.ok(out.destroyed);
  });
});
