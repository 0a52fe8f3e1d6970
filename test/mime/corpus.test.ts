// Every message of the shared corpus (found as test/corpus.ts says) goes through `sigops sign`'s
// code path (offline chooser over the example config, the same signMessage the relay runs) and
// must come out as valid MIME with every part but the two signed text parts byte-identical; the
// S/MIME signed message unchanged.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfigRepo } from '../../src/config/index.ts';
import { offlineChooser, type ChooseFn } from '../../src/mime/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { sign, verifyOutput } from './helpers.ts';
import { CORPUS_DIR, CORPUS_MISSING } from '../corpus.ts';

const CORPUS = CORPUS_DIR;
const files = CORPUS_MISSING ? [] : ['mailparser', 'mimekit', 'talon-replies'].flatMap((d) =>
  readdirSync(join(CORPUS, d))
    .filter((f) => f !== 'LICENSE' && !f.endsWith('.md'))
    .map((f) => join(CORPUS, d, f)),
);

let choose: ChooseFn;
before(async () => {
  const loaded = await loadConfigRepo(join(import.meta.dirname, '..', '..', 'example-config'));
  assert.ok(loaded.ok, 'example-config loads');
  // like `sigops sign --from alice@contoso.com --to bob@fabrikam.com`
  choose = offlineChooser(compilePolicy(loaded.config), { sender: 'alice@contoso.com', recipients: ['bob@fabrikam.com'], now: new Date('2026-06-01T12:00:00Z') });
});

const EXPECTED_PASS: Record<string, string> = {
  'smime-thunderbird-signed.eml': 'smime',
  'delivery-status.eml': 'report',
  'delivery-status.anonymized.eml': 'report',
  'disposition-notification.anonymized.eml': 'report',
  'disposition-notification.txt': 'report',
  'feedback-report.txt': 'report',
  'bounce.txt': 'report',
};

describe('corpus through sigops sign', { skip: CORPUS_MISSING }, () => {
  assert.ok(files.length >= 40, `corpus found (${files.length} files)`);
  for (const file of files) {
    it(file.slice(CORPUS.length + 1), async () => {
      const input = readFileSync(file);
      const { out, outcome } = await sign(input, choose);
      verifyOutput(input, out, outcome);
      const name = file.split('/').pop()!;
      if (EXPECTED_PASS[name]) assert.equal(outcome.reason, EXPECTED_PASS[name]);
      if (!outcome.signed) {
        // passed through: the original bytes plus our header, nothing else
        const without = out.toString('latin1').replace(/(\r?\n)X-Sigops-Processed: true\r?\n/, '$1');
        assert.equal(without, input.toString('latin1'));
      }
      // the same output whatever the chunking of the input
      const sizes = statSync(file).size < 300_000 ? [[1, 2, 3, 5, 8], [997], [4096]] : [[4096], [65536, 17]];
      for (const chunk of sizes) {
        const again = await sign(input, choose, { chunk });
        assert.ok(again.out.equals(out), `same output with chunks of ${chunk.join(',')}`);
        assert.deepEqual(again.outcome, outcome);
      }
    });
  }

  it('the S/MIME signed message comes out byte-identical but for X-Sigops-Processed', async () => {
    const input = readFileSync(join(CORPUS, 'mimekit', 'smime-thunderbird-signed.eml'));
    const { out, outcome } = await sign(input, choose);
    assert.equal(outcome.reason, 'smime');
    const body = (b: Buffer): Buffer => b.subarray(b.indexOf('\r\n\r\n') >= 0 ? b.indexOf('\r\n\r\n') : b.indexOf('\n\n'));
    assert.ok(body(out).equals(body(input)), 'body byte-identical');
  });

  it('signs the plain replies of the corpus (sanity: the chooser really signs)', async () => {
    const input = readFileSync(join(CORPUS, 'talon-replies', 'gmail.eml'));
    const { out, outcome } = await sign(input, choose);
    assert.equal(outcome.signed, true);
    assert.match(out.toString('latin1'), /sigops-signature/);
  });
});
