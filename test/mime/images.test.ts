// Signature images (multipart/related) and HTML twins of plain-text messages: the MIME shapes
// the signer writes, checked by our own parser, by mailparser and by Python's email package
// (independent readers: each image seen once, with its Content-ID), replies that quote our
// old images, the asynchronous signer path, and failures that must send the message unsigned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import type { EmbeddedImage } from '../../src/policy/types.ts';
import { WorkerPartSigner, type SigningChoice, type PartSigner } from '../../src/mime/index.ts';
import { signParts } from '../../src/mime/parts.ts';
import { allNodes, BLOCKS, bodyParts, decodedBody, decodedText, headerOf, leaves, parseMime, sign, verifyOutput, withoutAddedStructure } from './helpers.ts';

const LOGO = readFileSync(new URL('../../example-config/images/contoso-logo.png', import.meta.url));
const ICON = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'); // 1x1 GIF

const logo: EmbeddedImage = { contentId: '0123456789abcdef.logo.png@sigops', name: 'logo.png', mime: 'image/png', data: LOGO };
const icon: EmbeddedImage = { contentId: 'fedcba9876543210.icon.gif@sigops', name: 'icon.gif', mime: 'image/gif', data: ICON };
const IDS = [logo.contentId, icon.contentId];

const BLOCKS_WITH_IMAGES = {
  ...BLOCKS,
  html: `${BLOCKS.html}<img src="cid:${logo.contentId}" alt="logo"><img src="cid:${icon.contentId}"><img src="cid:${logo.contentId}">`,
  images: [logo, icon],
};
const EMBED: SigningChoice = { kind: 'sign', blocks: BLOCKS_WITH_IMAGES, placement: 'reply', rule: 'r' };
const TWIN: SigningChoice = { ...EMBED, plainText: 'html' };
const TWIN_NO_IMAGES: SigningChoice = { kind: 'sign', blocks: BLOCKS, placement: 'reply', rule: 'r', plainText: 'html' };

const HEAD = 'From: Alice <alice@contoso.com>\r\nTo: bob@example.org\r\nSubject: Re: offer\r\nMIME-Version: 1.0\r\n';
const HTML = '<html><body><p>Thanks, see below.</p><div>On Mon, Bob wrote:</div><blockquote><p>Our offer.</p></blockquote></body></html>\r\n';
const PLAIN = 'Thanks, see below.\r\n\r\nOn Mon, Bob wrote:\r\n> Our offer.\r\n';

const MESSAGES: Record<string, string> = {
  'text/html alone': `${HEAD}Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${HTML}`,
  'text/html alone, no MIME-Version': `From: alice@contoso.com\r\nSubject: x\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n${HTML}`,
  'multipart/alternative': `${HEAD}Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${PLAIN}--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${HTML}--ALT--\r\n`,
  'alternative(text, related(html, image))': `${HEAD}Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--ALT\r\nContent-Type: multipart/related; boundary="REL"; type="text/html"\r\n\r\n--REL\r\nContent-Type: text/html\r\n\r\n${HTML.replace('</body>', '<img src="cid:image001.png@01DA">' + '</body>')}--REL\r\nContent-Type: image/png; name="image001.png"\r\nContent-ID: <image001.png@01DA>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--REL--\r\n--ALT--\r\n`,
  'related(alternative(text, html), image)': `${HEAD}Content-Type: multipart/related; boundary="REL"\r\n\r\n--REL\r\nContent-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--ALT\r\nContent-Type: text/html\r\n\r\n${HTML}--ALT--\r\n--REL\r\nContent-Type: image/jpeg\r\nContent-ID: <x@y>\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--REL--\r\n`,
  'mixed(alternative(text, html), attachment)': `${HEAD}Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n--MIX\r\nContent-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--ALT\r\nContent-Type: text/html\r\n\r\n${HTML}--ALT--\r\n--MIX\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--MIX--\r\n`,
  'related(html) alone, LF line ends': `From: alice@contoso.com\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary="R"\n\n--R\nContent-Type: text/html\n\n${HTML.replace(/\r\n/g, '\n')}--R--\n`,
};

/** What the independent parsers must agree on: the images once each, the HTML referring to them. */
async function checkImages(out: Buffer, expect: readonly EmbeddedImage[]): Promise<void> {
  const tree = parseMime(out);
  for (const img of expect) {
    const parts = allNodes(tree).filter((n) => headerOf(n, 'content-id') === `<${img.contentId}>`);
    assert.equal(parts.length, 1, `${img.name}: one part`);
    assert.ok(decodedBody(parts[0]!).equals(Buffer.from(img.data)), `${img.name}: its bytes`);
    for (const line of parts[0]!.bodyRaw.toString('latin1').split(/\r?\n/)) assert.ok(line.length <= 76);
  }
  const parsed = await simpleParser(out);
  for (const img of expect) {
    const found = parsed.attachments.filter((a) => a.contentId === `<${img.contentId}>`);
    assert.equal(found.length, 1, `mailparser sees ${img.name} once`);
    assert.ok(found[0]!.content.equals(Buffer.from(img.data)));
    assert.equal(found[0]!.related, true, `mailparser: ${img.name} is related to the HTML`);
    assert.equal(found[0]!.contentType, img.mime);
  }
  assert.ok(typeof parsed.html === 'string' && parsed.html.includes('sigops-signature'), 'mailparser finds the signed HTML');
}

const python = spawnSync('python3', ['-c', 'import email'], { encoding: 'utf8' }).status === 0;

/** Python's email package: each (Content-ID, size) of the message's non-multipart parts. */
function pythonParts(out: Buffer): { type: string; cid: string | null; size: number }[] {
  const script = [
    'import sys, json, email',
    'from email import policy',
    'm = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)',
    'print(json.dumps([{"type": p.get_content_type(), "cid": p.get("Content-ID"), "size": len(p.get_payload(decode=True) or b"")} for p in m.walk() if not p.is_multipart()]))',
    'assert not m.defects, m.defects',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: out });
  assert.equal(r.status, 0, r.stderr?.toString());
  return JSON.parse(r.stdout.toString()) as { type: string; cid: string | null; size: number }[];
}

for (const [name, message] of Object.entries(MESSAGES)) {
  test(`images: ${name}`, async () => {
    const input = Buffer.from(message, 'latin1');
    for (const chunk of [5, 64 * 1024]) {
      const { out, outcome } = await sign(input, EMBED, { chunk });
      assert.equal(outcome.signed, true, JSON.stringify(outcome));
      // take away the added structure: the rest of the message is as it came, signed once
      verifyOutput(input, withoutAddedStructure(input, out, IDS), outcome);
      await checkImages(out, [logo, icon]);
      const html = bodyParts(parseMime(out)).html!;
      assert.match(decodedText(html), new RegExp(`cid:${logo.contentId.replace(/\./g, '\\.')}`));
      if (python) {
        const parts = pythonParts(out);
        for (const img of [logo, icon]) assert.deepEqual(parts.filter((p) => p.cid === `<${img.contentId}>`).map((p) => p.size), [img.data.byteLength]);
      }
    }
  });
}

test('images: the HTML and its images are one multipart/related (RFC 2387), where Outlook writes it', async () => {
  const { out } = await sign(Buffer.from(MESSAGES['multipart/alternative']!, 'latin1'), EMBED);
  const tree = parseMime(out);
  assert.equal(tree.type, 'multipart/alternative');
  assert.deepEqual(tree.children!.map((c) => c.type), ['text/plain', 'multipart/related']);
  const rel = tree.children![1]!;
  assert.equal(rel.params.type, 'text/html');
  assert.deepEqual(rel.children!.map((c) => c.type), ['text/html', 'image/png', 'image/gif']);
  // the text twin is unchanged by images
  assert.doesNotMatch(decodedText(tree.children![0]!), /cid:/);

  const single = parseMime((await sign(Buffer.from(MESSAGES['text/html alone']!, 'latin1'), EMBED)).out);
  assert.equal(single.type, 'multipart/related');
  assert.equal(headerOf(single, 'mime-version'), '1.0');
  assert.deepEqual(single.children!.map((c) => c.type), ['text/html', 'image/png', 'image/gif']);
  assert.equal(headerOf(single.children![0]!, 'content-transfer-encoding'), 'quoted-printable');

  // an existing related gains parts, before its closing line, after its own
  const existing = parseMime((await sign(Buffer.from(MESSAGES['alternative(text, related(html, image))']!, 'latin1'), EMBED)).out);
  assert.deepEqual(existing.children![1]!.children!.map((c) => headerOf(c, 'content-id') ?? c.type), ['text/html', '<image001.png@01DA>', `<${logo.contentId}>`, `<${icon.contentId}>`]);
});

test('images: a reply quoting our old images gets each once, whether or not the client attached them again', async () => {
  // the quote refers to our images by the same Content-ID (same content); the client did not attach them
  const quoted = `<html><body><p>Sure.</p><div>On Mon, Alice wrote:</div><blockquote><div id="x"><img src="cid:${logo.contentId}"></div></blockquote></body></html>\r\n`;
  const bare = `${HEAD}Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--ALT\r\nContent-Type: text/html\r\n\r\n${quoted}--ALT--\r\n`;
  let r = await sign(Buffer.from(bare, 'latin1'), EMBED);
  assert.equal(r.outcome.signed, true);
  await checkImages(r.out, [logo, icon]);

  // the client attached the quoted images again (Outlook does): they are not added a second time
  const logoPart = `Content-Type: image/png; name="logo.png"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <${logo.contentId}>\r\n\r\n${LOGO.toString('base64').replace(/(.{76})(?=.)/g, '$1\r\n')}\r\n`;
  const attached = `${HEAD}Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--ALT\r\nContent-Type: multipart/related; boundary="REL"\r\n\r\n--REL\r\nContent-Type: text/html\r\n\r\n${quoted}--REL\r\n${logoPart}--REL--\r\n--ALT--\r\n`;
  r = await sign(Buffer.from(attached, 'latin1'), EMBED);
  assert.equal(r.outcome.signed, true);
  await checkImages(r.out, [logo, icon]);
  if (python) assert.equal(pythonParts(r.out).filter((p) => p.cid === `<${logo.contentId}>`).length, 1);

  // signing the signed message again: it passes, nothing is added
  const again = await sign(r.out, EMBED);
  assert.equal(again.outcome.reason, 'already-processed');
  assert.ok(again.out.equals(r.out));
});

test('images: only the images the HTML block refers to are attached, each once; none without images', async () => {
  const { out } = await sign(Buffer.from(MESSAGES['multipart/alternative']!, 'latin1'));
  assert.equal(leaves(parseMime(out)).length, 2);
  assert.doesNotMatch(out.toString('latin1'), /=_sigops-/);
});

test('images: the HTML signed on another thread (a PartSigner) still gains its images, in order', async () => {
  const signer: PartSigner = { minBytes: 0, sign: async (parts, plan, eol) => { await new Promise((r) => setTimeout(r, 5)); return signParts(parts, plan, eol); } };
  for (const name of ['alternative(text, related(html, image))', 'multipart/alternative', 'text/html alone']) {
    const input = Buffer.from(MESSAGES[name]!, 'latin1');
    const { out, outcome } = await sign(input, EMBED, { chunk: 11, options: { signer } });
    assert.equal(outcome.signed, true, name);
    verifyOutput(input, withoutAddedStructure(input, out, IDS), outcome);
    await checkImages(out, [logo, icon]);
  }
  // the other thread gave up: unsigned, and no image added
  const gaveUp: PartSigner = { minBytes: 0, sign: async () => ({ kind: 'gave-up', detail: 'slow' }) };
  const input = Buffer.from(MESSAGES['alternative(text, related(html, image))']!, 'latin1');
  const { out, outcome } = await sign(input, EMBED, { options: { signer: gaveUp } });
  assert.equal(outcome.signed, false);
  assert.doesNotMatch(out.toString('latin1'), /@sigops/);
});

test('images and HTML twins with the worker thread signing the parts', async () => {
  const worker = new WorkerPartSigner({ minBytes: 0 });
  try {
    const plain = Buffer.from(`${HEAD}Content-Type: text/plain; charset=utf-8\r\n\r\n${PLAIN}`, 'latin1');
    const r = await sign(plain, TWIN, { options: { signer: worker } });
    assert.equal(r.outcome.signed, true);
    assert.deepEqual(parseMime(r.out).children!.map((c) => c.type), ['text/plain', 'multipart/related']);
    verifyOutput(plain, withoutAddedStructure(plain, r.out, IDS), r.outcome);
    await checkImages(r.out, [logo, icon]);
    const rel = Buffer.from(MESSAGES['alternative(text, related(html, image))']!, 'latin1');
    const r2 = await sign(rel, EMBED, { chunk: 13, options: { signer: worker } });
    verifyOutput(rel, withoutAddedStructure(rel, r2.out, IDS), r2.outcome);
    await checkImages(r2.out, [logo, icon]);
  } finally {
    await worker.close();
  }
});

test('images: a large attachment after the HTML in a related streams through (the related is walked to its end, not held)', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 'QUFB').toString('latin1').replace(/(.{76})/g, '$1\r\n');
  const message = `${HEAD}Content-Type: multipart/related; boundary="REL"\r\n\r\n--REL\r\nContent-Type: text/html\r\n\r\n${HTML}--REL\r\nContent-Type: image/png\r\nContent-ID: <big@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n--REL--\r\n`;
  const input = Buffer.from(message, 'latin1');
  const { out, outcome } = await sign(input, EMBED, { chunk: 64 * 1024, options: { maxTextBytes: 64 * 1024 } });
  assert.equal(outcome.signed, true);
  verifyOutput(input, withoutAddedStructure(input, out, IDS), outcome);
  await checkImages(out, [logo, icon]);
});

test('images: a failure while adding them sends the message unsigned, with its reason', async () => {
  const broken = { ...logo, data: new Proxy(new Uint8Array(LOGO), { get: (t, k) => { if (k === 'buffer') throw new Error('image bytes unavailable'); return Reflect.get(t, k) as unknown; } }) };
  const choice: SigningChoice = { ...EMBED, blocks: { ...BLOCKS_WITH_IMAGES, images: [broken] } };
  for (const name of ['text/html alone', 'multipart/alternative']) {
    const input = Buffer.from(MESSAGES[name]!, 'latin1');
    const { out, outcome } = await sign(input, choice);
    assert.equal(outcome.signed, false, name);
    assert.equal(outcome.reason, 'images-failed');
    assert.match(outcome.detail ?? '', /image bytes unavailable/);
    verifyOutput(input, out, outcome); // unchanged but for X-Sigops-Processed
  }
});

// ------------------------------------------------------------------ plainText: html

test('plainText html: a text/plain message becomes multipart/alternative; the text part is kept and signed as before', async () => {
  const input = Buffer.from(`${HEAD}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${PLAIN}`, 'latin1');
  const keep = await sign(input, { ...TWIN_NO_IMAGES, plainText: 'keep' });
  for (const chunk of [3, 64 * 1024]) {
    const { out, outcome } = await sign(input, TWIN_NO_IMAGES, { chunk });
    assert.equal(outcome.signed, true);
    const tree = parseMime(out);
    assert.equal(tree.type, 'multipart/alternative');
    assert.deepEqual(tree.children!.map((c) => c.type), ['text/plain', 'text/html']);
    // the text part: exactly what `keep` writes
    assert.ok(tree.children![0]!.bodyRaw.toString('latin1').startsWith(parseMime(keep.out).bodyRaw.toString('latin1')));
    assert.equal(decodedText(tree.children![0]!), decodedText(parseMime(keep.out)));
    verifyOutput(input, withoutAddedStructure(input, out, []), outcome);
    // the HTML: the text escaped, the HTML block between the new text and the quote
    const html = decodedText(tree.children![1]!);
    const sig = html.indexOf('<div id="sigops-signature"');
    assert.ok(sig > html.indexOf('Thanks, see below.') && sig < html.indexOf('On Mon, Bob wrote:'), html);
    assert.match(html, /&gt; Our offer\./);
    assert.match(html, /white-space: pre-wrap/);
    const parsed = await simpleParser(out);
    assert.equal(parsed.text?.replace(/\r\n/g, '\n').includes('Thanks, see below.'), true);
    assert.ok(typeof parsed.html === 'string' && parsed.html.includes('sigops-signature'));
    if (python) assert.deepEqual(pythonParts(out).map((p) => p.type), ['text/plain', 'text/html']);
  }
});

test('plainText html: with images, and inside multipart/mixed; keep and an existing HTML part change nothing', async () => {
  const mixed = Buffer.from(`${HEAD}Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n--MIX\r\nContent-Type: text/plain\r\n\r\n${PLAIN}--MIX\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--MIX--\r\n`, 'latin1');
  const { out, outcome } = await sign(mixed, TWIN, { chunk: 9 });
  assert.equal(outcome.signed, true);
  const tree = parseMime(out);
  assert.deepEqual(tree.children!.map((c) => c.type), ['multipart/alternative', 'application/pdf']);
  assert.deepEqual(tree.children![0]!.children!.map((c) => c.type), ['text/plain', 'multipart/related']);
  assert.deepEqual(tree.children![0]!.children![1]!.children!.map((c) => c.type), ['text/html', 'image/png', 'image/gif']);
  verifyOutput(mixed, withoutAddedStructure(mixed, out, IDS), outcome);
  await checkImages(out, [logo, icon]);

  // an HTML part exists: nothing is converted
  const alt = Buffer.from(MESSAGES['multipart/alternative']!, 'latin1');
  const withHtml = await sign(alt, TWIN_NO_IMAGES);
  assert.equal(parseMime(withHtml.out).children!.length, 2);
  verifyOutput(alt, withHtml.out, withHtml.outcome);
});
