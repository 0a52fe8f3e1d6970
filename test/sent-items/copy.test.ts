// The signed copy in the message path: the bytes pass on unchanged whatever happens to the copy
// (too large, the disk refusing), and a complete copy is byte for byte what went out.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { SignedCopy } from '../../src/sent-items/index.ts';

async function through(copy: SignedCopy, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => out.push(c));
  await pipeline(async function* () {
    yield* chunks;
  }, copy.stream, sink);
  return Buffer.concat(out);
}

describe('SignedCopy', () => {
  it('writes what goes out, mode 0600, and passes it on unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-copy-'));
    const copy = new SignedCopy({ path: join(dir, 'a.part'), maxBytes: 1 << 20 });
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 1024, 65 + (i % 26)));
    const out = await through(copy, chunks);
    assert.deepEqual(out, Buffer.concat(chunks));
    assert.deepEqual(await copy.done(), { ok: true, bytes: out.length });
    assert.deepEqual(await readFile(join(dir, 'a.part')), out);
    assert.equal((await stat(join(dir, 'a.part'))).mode & 0o777, 0o600);
  });

  it('gives up a copy over the size bound, and the message still goes out whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-copy-'));
    const copy = new SignedCopy({ path: join(dir, 'big.part'), maxBytes: 100 });
    const out = await through(copy, [Buffer.alloc(80, 1), Buffer.alloc(80, 2)]);
    assert.equal(out.length, 160);
    assert.deepEqual(await copy.done(), { ok: false, reason: 'too-large' });
    assert.deepEqual(await readdir(dir), []);
  });

  it('gives up a copy the disk refuses, and the message still goes out whole', async () => {
    const copy = new SignedCopy({ path: join(tmpdir(), 'no-such-dir-sigops', 'x.part'), maxBytes: 1 << 20 });
    const out = await through(copy, [Buffer.from('From: a\r\n\r\nbody\r\n')]);
    assert.equal(out.toString(), 'From: a\r\n\r\nbody\r\n');
    assert.deepEqual(await copy.done(), { ok: false, reason: 'disk-error' });
  });

  it('leaves no file when the message is given up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-copy-'));
    const copy = new SignedCopy({ path: join(dir, 'c.part'), maxBytes: 1 << 20 });
    copy.stream.on('error', () => undefined); // in the relay, the pipeline listens
    copy.stream.resume();
    copy.stream.write(Buffer.from('From: a\r\n'));
    copy.stream.destroy(new Error('upstream went away'));
    assert.deepEqual(await copy.done(), { ok: false, reason: 'message-failed' });
    assert.deepEqual(await readdir(dir), []);
  });
});
