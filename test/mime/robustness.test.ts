// Bad input never crashes, hangs or eats memory; what cannot be signed safely goes out as it came.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { signMessage } from '../../src/mime/index.ts';
import { SIGN, sign, verifyOutput } from './helpers.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'mail');

function plusHeader(input: Buffer): string {
  const s = input.toString('latin1');
  const end = s.search(/\r?\n\r?\n/);
  const eol = s.includes('\r\n') ? '\r\n' : '\n';
  return s.slice(0, end) + eol + 'X-Sigops-Processed: true' + s.slice(end);
}

describe('broken MIME', () => {
  it('truncated anywhere: never throws; cut inside the text parts → original bytes (unparseable)', async () => {
    const input = readFileSync(join(FIX, 'owa.eml'));
    const bodyStart = input.indexOf('\r\n\r\n') + 4;
    const pdf = input.indexOf('Content-Type: application/pdf');
    for (let cut = bodyStart + 1; cut < input.length; cut += 97) {
      const part = input.subarray(0, cut);
      const { out, outcome } = await sign(part, SIGN, { chunk: 61 });
      if (cut < pdf - 40) {
        assert.equal(outcome.reason, 'unparseable', `cut at ${cut}`);
        assert.equal(out.toString('latin1'), plusHeader(part));
      } else {
        // the text parts were complete and already went out signed; the rest streams as it came
        assert.ok(out.length > part.length);
        assert.ok(out.subarray(out.length - (cut - pdf)).equals(part.subarray(pdf)), `cut at ${cut}: tail passed as it came`);
      }
    }
  });

  it('a boundary that never occurs: everything is preamble, passed unchanged', async () => {
    const input = Buffer.from('From: a@contoso.com\r\nContent-Type: multipart/mixed; boundary="nope"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nhi\r\n--other--\r\n');
    const { out, outcome } = await sign(input);
    assert.equal(outcome.reason, 'unparseable');
    assert.equal(out.toString('latin1'), plusHeader(input));
  });

  it('parts with no header block, headers running into the boundary, empty parts', async () => {
    const input = Buffer.from(
      'From: a@contoso.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nno headers at all\r\n--b\r\nContent-Type: image/png\r\n--b\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b--',
    );
    const { out, outcome } = await sign(input);
    verifyOutput(input, out, outcome);
  });

  it('8-bit bytes in headers and in boundaries', async () => {
    const input = Buffer.concat([
      Buffer.from('From: "J\xf6rg" <j@contoso.com>\r\nSubject: \xff\xfe caf\xe9\r\nContent-Type: multipart/alternative; boundary="\xe9b"\r\n\r\n', 'latin1'),
      Buffer.from('--\xe9b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--\xe9b--\r\n', 'latin1'),
    ]);
    const { out, outcome } = await sign(input);
    assert.ok(out.includes(Buffer.from('\xff\xfe caf\xe9', 'latin1')), 'header bytes untouched');
    assert.ok(outcome.signed || outcome.reason === 'unparseable');
    if (!outcome.signed) assert.equal(out.toString('latin1'), plusHeader(input));
  });

  it('1,000-deep nesting: walked to the depth limit, the rest streamed, nothing lost', async () => {
    let body = 'Content-Type: text/plain\r\n\r\ndeep text\r\n';
    for (let i = 999; i >= 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
    const input = Buffer.from('From: a@contoso.com\r\n' + body);
    const { out, outcome } = await sign(input, SIGN, { chunk: 8192 });
    assert.equal(outcome.signed, false);
    assert.equal(out.toString('latin1'), plusHeader(input));
  });

  it('binary garbage and empty input', async () => {
    for (let i = 0; i < 30; i++) {
      const input = randomBytes(1 + ((i * 7919) % 20000));
      const { out } = await sign(input, SIGN, { chunk: [1 + i, 333] });
      assert.ok(out.length >= input.length);
      const s = out.toString('latin1');
      assert.ok(s.includes('X-Sigops-Processed: true'));
      assert.ok(s.replace(/(\r?\n)?X-Sigops-Processed: true\r?\n/, '$1').length >= input.length - 2);
    }
    const { out } = await sign(Buffer.alloc(0));
    assert.equal(out.toString(), 'X-Sigops-Processed: true\r\n');
  });

  it('a header block without an end', async () => {
    const input = Buffer.from('From: a@contoso.com\r\nSubject: no body');
    const { out, outcome } = await sign(input);
    assert.equal(outcome.reason, 'unparseable');
    assert.equal(out.toString(), 'From: a@contoso.com\r\nSubject: no body\r\nX-Sigops-Processed: true\r\n');
    const huge = Buffer.concat([Buffer.from('From: a@contoso.com\r\nX-Long: '), Buffer.alloc(3 * 1024 * 1024, 'a')]);
    const r = await sign(huge, SIGN, { chunk: 65536 });
    assert.equal(r.outcome.reason, 'unparseable');
    assert.ok(r.out.subarray(r.out.indexOf('\n') + 1).equals(huge), 'passed after our header, as it came');
  });
});

/** A message whose body is generated on the fly, so the test itself holds nothing. */
function generated(head: string, parts: Array<string | { bytes: number; line: number }>): { stream: Readable; total: number } {
  const chunks: Array<Buffer | { bytes: number; line: number }> = [Buffer.from(head), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))];
  const total = chunks.reduce((n, c) => n + (Buffer.isBuffer(c) ? c.length : c.bytes), 0);
  async function* gen(): AsyncGenerator<Buffer> {
    for (const c of chunks) {
      if (Buffer.isBuffer(c)) {
        yield c;
        continue;
      }
      const block = Buffer.alloc(64 * 1024, 'A');
      let left = c.bytes;
      let sinceNl = 0;
      while (left > 0) {
        const n = Math.min(left, block.length);
        const b = Buffer.from(block.subarray(0, n));
        if (c.line > 0) for (let i = 0; i < n; i++) if (++sinceNl >= c.line) ((b[i] = 10), (sinceNl = 0));
        left -= n;
        yield b;
      }
    }
  }
  return { stream: Readable.from(gen(), { objectMode: false }), total };
}

/** Counts output and records the largest amount of input read but not yet written. */
class Meter extends Writable {
  bytes = 0;
  constructor(private readonly read: () => number, public maxLag = 0) {
    super();
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.bytes += chunk.length;
    this.maxLag = Math.max(this.maxLag, this.read() - this.bytes);
    cb();
  }
}

describe('streaming, not holding', () => {
  it('a 50 MB single-line attachment streams through (never held), the text part signed', async () => {
    const head = 'From: a@contoso.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n';
    const { stream, total } = generated(head, [{ bytes: 50 * 1024 * 1024, line: 0 }, '\r\n--b--\r\n']);
    let read = 0;
    stream.on('data', (c: Buffer) => (read += c.length));
    const meter = new Meter(() => read);
    const outcome = await signMessage(stream, meter, () => SIGN);
    assert.equal(outcome.signed, true);
    assert.ok(meter.bytes > total);
    assert.ok(meter.maxLag < 4 * 1024 * 1024, `at most a few chunks in flight (lag ${meter.maxLag})`);
  });

  it('a 50 MB single-line text part passes as too-large without being held whole', async () => {
    const head = 'From: a@contoso.com\r\nContent-Type: text/plain\r\n\r\n';
    const { stream, total } = generated(head, [{ bytes: 50 * 1024 * 1024, line: 0 }]);
    let read = 0;
    stream.on('data', (c: Buffer) => (read += c.length));
    const meter = new Meter(() => read);
    const outcome = await signMessage(stream, meter, () => SIGN);
    assert.equal(outcome.reason, 'too-large');
    assert.equal(meter.bytes, total + 'X-Sigops-Processed: true\r\n'.length);
    assert.ok(meter.maxLag < 12 * 1024 * 1024, `held at most the 10 MB limit (lag ${meter.maxLag})`);
  });

  it('a 50 MB line in a part header or preamble is not buffered', async () => {
    const head = 'From: a@contoso.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nX-Huge: ';
    const { stream } = generated(head, [{ bytes: 50 * 1024 * 1024, line: 0 }, '\r\n\r\nbody\r\n--b--\r\n']);
    let read = 0;
    stream.on('data', (c: Buffer) => (read += c.length));
    const meter = new Meter(() => read);
    await signMessage(stream, meter, () => SIGN);
    assert.ok(meter.maxLag < 4 * 1024 * 1024, `lag ${meter.maxLag}`);
  });

  it('respects backpressure from a slow output', async () => {
    const input = readFileSync(join(FIX, 'owa.eml'));
    const big = Buffer.concat([input.subarray(0, input.lastIndexOf('--_005_')), Buffer.from('--_005_PAXPR01MB7890_\r\nContent-Type: application/octet-stream\r\n\r\n'), Buffer.alloc(8 * 1024 * 1024, 'Q'), Buffer.from('\r\n--_005_PAXPR01MB7890_--\r\n')]);
    let read = 0;
    const src = Readable.from((function* () { for (let i = 0; i < big.length; i += 16384) yield big.subarray(i, i + 16384); })());
    src.on('data', (c: Buffer) => (read += c.length));
    let written = 0;
    let maxLag = 0;
    const slow = new Writable({
      highWaterMark: 16384,
      write(chunk: Buffer, _e, cb) {
        written += chunk.length;
        maxLag = Math.max(maxLag, read - written);
        setImmediate(cb);
      },
    });
    const outcome = await signMessage(src, slow, () => SIGN);
    assert.equal(outcome.signed, true);
    assert.ok(maxLag < 1024 * 1024, `reading waits for the slow writer (lag ${maxLag})`);
  });
});
