// MIME bombs and oversized input against the relay as its own process (its peak RSS measured
// from /proc/<pid>/status, VmHWM): deep nesting, a huge number of parts, a 50 MB header block,
// lines of 1 MB and lines just over RFC 5322's 998. Each has a defined answer within a deadline;
// the relay never crashes and its memory stays bounded (asserted generously, the figure printed
// for RELIABILITY.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyOutput } from '../mime/helpers.ts';
import { CONTOSO, type RawSmtp } from '../relay/helpers.ts';
import { engineOutput, FULL, passedUnchanged, startRelayChild, startWireNextHop, streamTransaction, Tally, tlsSession, type RelayChild, type WireNextHop } from './hostile-smtp.ts';

const RSS_BOUND_MB = 400;
const DEADLINE_MS = FULL ? 300_000 : 60_000;

const HEAD = (ct: string, extra = '') =>
  `From: Alice Example <alice@contoso.com>\r\nTo: Bob <bob@example.org>\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n${extra}` +
  `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\nContent-Type: ${ct}\r\n\r\n`;

/** Multipart/mixed nested `depth` deep, the only text at the bottom. */
function* nested(depth: number): Generator<string> {
  yield HEAD('multipart/mixed; boundary="d0"');
  let open = '';
  for (let i = 0; i < depth; i++) {
    open += `--d${i}\r\nContent-Type: multipart/mixed; boundary="d${i + 1}"\r\n\r\n`;
    if (open.length > 64 * 1024) {
      yield open;
      open = '';
    }
  }
  yield open + `--d${depth}\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n`;
  let close = '';
  for (let i = depth; i >= 0; i--) {
    close += `--d${i}--\r\n`;
    if (close.length > 64 * 1024) {
      yield close;
      close = '';
    }
  }
  yield close;
}

/** One text part, then `n - 1` tiny attachments. */
function* manyParts(n: number): Generator<string> {
  yield HEAD('multipart/mixed; boundary="p"') + '--p\r\nContent-Type: text/plain\r\n\r\nHi Bob, many files.\r\n';
  const part = '--p\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n';
  const batch = part.repeat(1000);
  for (let i = 1; i < n; i += 1000) yield i + 1000 <= n ? batch : part.repeat(n - i);
  yield '--p--\r\n';
}

/** A header block of `mb` MB (1,000-byte fields), then a short body. */
function* hugeHeader(mb: number, oneLine = false): Generator<string> {
  yield HEAD('text/plain').replace(/\r\n\r\n$/, '\r\n');
  const line = oneLine ? 'x'.repeat(1000) : `X-Filler: ${'f'.repeat(988)}\r\n`;
  const chunk = line.repeat(1024);
  if (oneLine) yield 'X-One-Line: ';
  for (let i = 0; i < mb; i++) yield chunk;
  yield '\r\n\r\nbody\r\n';
}

function collect(gen: Iterable<string>): Buffer {
  return Buffer.from([...gen].join(''), 'latin1');
}

describe('hostile input: MIME bombs and oversized input (relay process, memory measured)', () => {
  let hop: WireNextHop;
  let relay: RelayChild;
  let c: RawSmtp;
  const tally = new Tally();
  const figures: string[] = [];

  before(async () => {
    hop = await startWireNextHop();
    relay = await startRelayChild({ hop });
    c = await tlsSession(relay.port);
    figures.push(`idle=${await relay.peakRssMb()}MB`);
  });
  after(async () => {
    c?.close();
    const peak = relay ? await relay.peakRssMb() : NaN;
    await relay?.stop();
    await hop?.close();
    process.stdout.write(`# reliability hostile bombs: ${tally}; relay VmHWM ${figures.join(' ')} peak=${peak}MB (bound ${RSS_BOUND_MB} MB)\n`);
  });

  /** Sends, checks the answer within the deadline, the relay alive and its peak RSS bounded. */
  async function run(name: string, pieces: Iterable<string>, answer: RegExp): Promise<{ delivered: Buffer | undefined; ms: number }> {
    const before = hop.transactions.length;
    const started = Date.now();
    const reply = await streamTransaction(c, 'alice@contoso.com', ['bob@example.org'], pieces);
    const ms = Date.now() - started;
    assert.match(reply, answer, name);
    assert.ok(ms < DEADLINE_MS, `${name}: answered in ${ms} ms`);
    assert.equal(relay.child.exitCode, null, 'the relay is still running');
    const peak = await relay.peakRssMb();
    figures.push(`${name}=${peak}MB/${ms}ms`);
    assert.ok(peak < RSS_BOUND_MB, `${name}: relay peak RSS ${peak} MB`);
    tally.add(name);
    const delivered = hop.transactions.slice(before);
    assert.ok(delivered.length <= 1);
    return { delivered: delivered[0] ? engineOutput(delivered[0].wire) : undefined, ms };
  }

  const depth = FULL ? 10_000 : 1_000;
  it(`nesting ${depth.toLocaleString('en')} deep: 250, walked to depth 32, the rest streamed unchanged`, async () => {
    const { delivered } = await run(`depth-${depth}`, nested(depth), /^250 2\.6\.0 /);
    assert.ok(delivered?.equals(passedUnchanged(collect(nested(depth)))), 'passed unchanged (no text part within reach)');
  });

  const parts = FULL ? 1_000_000 : 100_000;
  it(`${parts.toLocaleString('en')} parts: 250, the text signed, every other part byte-identical`, async () => {
    const { delivered } = await run(`parts-${parts}`, manyParts(parts), /^250 2\.6\.0 /);
    assert.ok(delivered);
    const input = collect(manyParts(parts));
    if (parts <= 100_000) verifyOutput(input, delivered, { signed: true });
    const tail = input.subarray(input.indexOf('--p\r\nContent-Type: application/octet-stream'));
    assert.ok(delivered.subarray(delivered.length - tail.length).equals(tail), 'the attachments streamed through as they came');
  });

  it('a 50 MB header block: 552 5.3.4 after 1 MB, nothing delivered', async () => {
    const { delivered } = await run('header-50MB', hugeHeader(50), /^552 5\.3\.4 Message header block exceeds the maximum size of 1048576 bytes/);
    assert.equal(delivered, undefined);
  });

  it('a 50 MB header line without a line break: 552 5.3.4, nothing delivered', async () => {
    const { delivered } = await run('header-line-50MB', hugeHeader(50, true), /^552 5\.3\.4 Message header block exceeds/);
    assert.equal(delivered, undefined);
  });

  it('a 50 MB header block of a part (after the text part): 250, signed, the part streamed through unchanged', async () => {
    function* partHeader(): Generator<string> {
      yield HEAD('multipart/mixed; boundary="h"') + '--h\r\nContent-Type: text/plain\r\n\r\nHi Bob\r\n--h\r\nContent-Type: application/octet-stream\r\n';
      const chunk = `X-Part-Filler: ${'g'.repeat(983)}\r\n`.repeat(1024);
      for (let i = 0; i < 50; i++) yield chunk;
      yield '\r\nAAAA\r\n--h--\r\n';
    }
    const { delivered } = await run('part-header-50MB', partHeader(), /^250 2\.6\.0 /);
    assert.ok(delivered);
    const input = collect(partHeader());
    const tail = input.subarray(input.indexOf('--h\r\nContent-Type: application/octet-stream'));
    assert.ok(delivered.subarray(delivered.length - tail.length).equals(tail), 'the part streamed through as it came');
  });

  it('a 1 MB line in the text part: 250, signed, re-encoded quoted-printable (lines within 998)', async () => {
    const pieces = [HEAD('text/plain; charset=us-ascii'), 'Hi Bob, ', 'y'.repeat(1024 * 1024), '\r\nAlice\r\n'];
    const { delivered } = await run('text-line-1MB', pieces, /^250 2\.6\.0 /);
    assert.ok(delivered);
    verifyOutput(Buffer.from(pieces.join(''), 'latin1'), delivered, { signed: true });
    assert.match(delivered.toString('latin1'), /Content-Transfer-Encoding: quoted-printable/);
  });

  it('a 1 MB line in an attachment: 250, the attachment byte-identical', async () => {
    const attachment = 'z'.repeat(1024 * 1024);
    const pieces = [HEAD('multipart/mixed; boundary="a"'), '--a\r\nContent-Type: text/plain\r\n\r\nHi Bob\r\n--a\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n', attachment, '\r\n--a--\r\n'];
    const { delivered } = await run('attachment-line-1MB', pieces, /^250 2\.6\.0 /);
    assert.ok(delivered);
    verifyOutput(Buffer.from(pieces.join(''), 'latin1'), delivered, { signed: true });
  });

  it('lines of 999, 1,000 and 5,000 characters in the text part and a 5,000-character Subject: 250, header unchanged, text re-encoded', async () => {
    const subject = `X-Long-Subject: ${'s'.repeat(5000)}\r\n`;
    const pieces = [HEAD('text/plain; charset=us-ascii', subject), `${'a'.repeat(999)}\r\n${'b'.repeat(1000)}\r\n${'c'.repeat(5000)}\r\nAlice\r\n`];
    const { delivered } = await run('lines-over-998', pieces, /^250 2\.6\.0 /);
    assert.ok(delivered);
    verifyOutput(Buffer.from(pieces.join(''), 'latin1'), delivered, { signed: true });
    assert.ok(delivered.includes(subject), 'the long header field is untouched');
  });

  if (FULL) {
    it('a message of 160 MB: 552 5.3.4 at 150 MB, never completed at the next hop', async () => {
      function* big(): Generator<string> {
        yield HEAD('application/octet-stream');
        const chunk = `${'q'.repeat(998)}\r\n`.repeat(1024);
        for (let i = 0; i < 160; i++) yield chunk;
      }
      const { delivered } = await run('message-160MB', big(), /^552 5\.3\.4 Message exceeds the maximum size/);
      assert.equal(delivered, undefined);
    });
  }
});
