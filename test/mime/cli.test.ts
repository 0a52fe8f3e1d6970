// `sigops sign` end to end: the real binary, stdin/--in to stdout, outcome on stderr, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyOutput } from './helpers.ts';
import { CORPUS_DIR, CORPUS_MISSING } from '../corpus.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'sigops');
const CONFIG = join(ROOT, 'example-config');
const FIX = join(ROOT, 'test', 'fixtures', 'mail');

function run(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'sign', ...args], { input, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('sigops sign', () => {
  it('signs a file (--in) to stdout; envelope from the headers; outcome on stderr', () => {
    const file = join(FIX, 'owa.eml');
    const r = run(['--config', CONFIG, '--in', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^signed: tenant contoso, sender alice@contoso\.com, rule '[^']+'/);
    verifyOutput(readFileSync(file), r.stdout, { signed: true });
    assert.match(r.stdout.toString(), /X-Sigops-Processed: true/);
  });

  it('reads stdin by default, and --from/--to override the envelope', () => {
    const input = readFileSync(join(FIX, 'gmail.eml'));
    const r = run(['--config', CONFIG, '--from', 'bob@contoso.com', '--to', 'x@fabrikam.com'], input);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /sender bob@contoso\.com/);
    verifyOutput(input, r.stdout, { signed: true });
  });

  it('passes what must not be signed, exit 0', { skip: CORPUS_MISSING }, () => {
    const file = join(CORPUS_DIR, 'mimekit', 'smime-thunderbird-signed.eml');
    const r = run(['--config', CONFIG, '--in', file, '--from', 'alice@contoso.com']);
    assert.equal(r.status, 0);
    assert.match(r.stderr, /passed through unchanged: .* reason smime/);
    const input = readFileSync(file);
    assert.equal(r.stdout.toString('latin1'), input.toString('latin1').replace('\n\n', '\nX-Sigops-Processed: true\n\n'));
  });

  it('usage and config errors exit non-zero and write nothing to stdout', () => {
    const noTenant = run(['--config', CONFIG, '--from', 'someone@unknown.example'], readFileSync(join(FIX, 'gmail.eml')));
    assert.equal(noTenant.status, 1);
    assert.match(noTenant.stderr, /no tenant owns the domain unknown\.example/);
    assert.equal(noTenant.stdout.length, 0);

    const missing = run(['--config', CONFIG, '--in', '/nonexistent.eml']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read \/nonexistent\.eml/);

    const bad = mkdtempSync(join(tmpdir(), 'sigops-bad-'));
    writeFileSync(join(bad, 'README'), 'not a config');
    const invalid = run(['--config', bad, '--in', join(FIX, 'gmail.eml')]);
    assert.equal(invalid.status, 1);
    assert.equal(invalid.stdout.length, 0);
  });
});
