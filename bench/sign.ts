// Benchmark of the signing engine (src/mime) on the corpus mix, in the same run against:
//   - a bare in-process pass-through (the same bytes piped to the same sink), the ceiling the
//     relay benchmark compares against;
//   - GNU altermime, run once per message on a copy of the file as a Postfix content filter
//     runs it (`altermime --input=FILE --disclaimer=… --disclaimer-html=…`);
// and the peak RSS of a child process signing a 100 MB message with a large attachment. The
// same mix and the same big message are also signed with an embedded image (a 12 KB logo added
// as a multipart/related part), to show what embedding costs against the same run without.
//
//   npm run bench:sign        (or: node --import tsx bench/sign.ts [--rounds N] [--write])
//
// Needs: altermime on PATH (Debian/Ubuntu: apt-get install -y altermime); the shared corpus in
// ../shared/corpus (falls back to test/fixtures/mail only). Installs nothing. --write records
// the report in bench/results/sign.md.
import { spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { loadConfigRepo } from '../src/config/index.ts';
import { offlineChooser, signMessage, type ChooseFn, type SigningChoice } from '../src/mime/index.ts';
import type { EmbeddedImage, RenderedBlocks } from '../src/policy/types.ts';
import { compilePolicy } from '../src/policy/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, def: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);

class Sink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.bytes += chunk.length;
    cb();
  }
}

/** Feeds a buffer in 64 KB chunks, as a socket would. */
function source(buf: Buffer): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < buf.length; i += 65536) yield buf.subarray(i, i + 65536);
  })());
}

async function chooser(): Promise<ChooseFn> {
  const loaded = await loadConfigRepo(join(ROOT, 'example-config'));
  if (!loaded.ok) throw new Error('example-config does not load');
  return offlineChooser(compilePolicy(loaded.config), { sender: 'alice@contoso.com', recipients: ['bob@fabrikam.com'], now: new Date('2026-06-01T12:00:00Z') });
}

const ROUNDS = arg('--rounds', 20);
const ALTERMIME_PASSES = arg('--altermime-passes', 3);
const tmp = mkdtempSync(join(tmpdir(), 'sigops-bench-sign-'));

// ---- the corpus mix ---------------------------------------------------------------------------
const CORPUS = process.env.SIGOPS_CORPUS ?? join(ROOT, '..', 'shared', 'corpus');
const dirs = [join(CORPUS, 'mailparser'), join(CORPUS, 'mimekit'), join(CORPUS, 'talon-replies'), join(ROOT, 'test', 'fixtures', 'mail')].filter(existsSync);
const files = dirs.flatMap((d) => readdirSync(d).filter((f) => /\.(eml|txt)$/.test(f)).map((f) => join(d, f)));
const messages = files.map((f) => ({ file: f, data: readFileSync(f) }));
const totalBytes = messages.reduce((n, m) => n + m.data.length, 0);
const choose = await chooser();

// ---- the same choice with an embedded image ---------------------------------------------------
// a logo of a realistic size (12 KB): the example's PNG padded; the engine never decodes it
const LOGO: EmbeddedImage = {
  contentId: '0123456789abcdef.logo.png@sigops',
  name: 'logo.png',
  mime: 'image/png',
  data: Buffer.concat([readFileSync(join(ROOT, 'example-config', 'images', 'contoso-logo.png')), Buffer.alloc(12 * 1024 - 147, 7)]),
};
// one object per decision's blocks, as the policy hands out (the engine caches per blocks object)
const withImage = new WeakMap<RenderedBlocks, RenderedBlocks>();
function imageBlocks(b: RenderedBlocks): RenderedBlocks {
  let v = withImage.get(b);
  if (!v) withImage.set(b, (v = { html: `<img src="cid:${LOGO.contentId}" width="96" height="96" alt="">${b.html}`, text: b.text, images: [LOGO] }));
  return v;
}
const chooseImages: ChooseFn = async (headers) => {
  const c: SigningChoice = await choose(headers);
  return c.kind === 'sign' ? { ...c, blocks: imageBlocks(c.blocks) } : c;
};

async function runSigopsImages(): Promise<number> {
  const t0 = performance.now();
  for (const m of messages) await signMessage(source(m.data), new Sink(), chooseImages);
  return performance.now() - t0;
}

async function runSigops(): Promise<{ ms: number; signed: number }> {
  let signed = 0;
  const t0 = performance.now();
  for (const m of messages) {
    const o = await signMessage(source(m.data), new Sink(), choose);
    if (o.signed) signed++;
  }
  return { ms: performance.now() - t0, signed };
}

async function runPassthrough(): Promise<number> {
  const t0 = performance.now();
  for (const m of messages) await pipeline(source(m.data), new Sink());
  return performance.now() - t0;
}

// warm-up (JIT), then alternate rounds so both see the same machine state
for (let i = 0; i < 3; i++) {
  await runSigops();
  await runSigopsImages();
  await runPassthrough();
}
let sigopsMs = 0;
let imagesMs = 0;
let passMs = 0;
let signedCount = 0;
for (let r = 0; r < ROUNDS; r++) {
  const s = await runSigops();
  sigopsMs += s.ms;
  signedCount = s.signed;
  imagesMs += await runSigopsImages();
  passMs += await runPassthrough();
}
const perRound = (ms: number): number => ms / ROUNDS;
const rate = (ms: number): { msgs: number; mbs: number } => ({ msgs: (messages.length * ROUNDS) / (ms / 1000), mbs: (totalBytes * ROUNDS) / 1048576 / (ms / 1000) });
const sig = rate(sigopsMs);
const img = rate(imagesMs);
const pass = rate(passMs);

// ---- altermime, per message, on a copy (it rewrites the file in place) --------------------
const loadedForBlocks = await loadConfigRepo(join(ROOT, 'example-config'));
if (!loadedForBlocks.ok) throw new Error('example-config does not load');
const policy = compilePolicy(loadedForBlocks.config);
const decision = policy.tenantForDomain('contoso.com')!.decide({ sender: 'alice@contoso.com', recipients: ['bob@fabrikam.com'], now: new Date('2026-06-01T12:00:00Z') });
const blocks = decision.kind === 'sign' ? decision.blocks : { html: '<p>Alice Example</p>', text: 'Alice Example' };
writeFileSync(join(tmp, 'disclaimer.txt'), blocks.text + '\n');
writeFileSync(join(tmp, 'disclaimer.html'), blocks.html + '\n');
const altermime = spawnSync('altermime', ['--version'], { encoding: 'utf8' });
let alter: { ms: number; failures: number } | undefined;
if (altermime.error) {
  process.stderr.write('altermime not found (apt-get install -y altermime): skipping the comparison\n');
} else {
  const work = join(tmp, 'msg.eml');
  let failures = 0;
  const run = (): number => {
    const t0 = performance.now();
    for (const m of messages) {
      copyFileSync(m.file, work);
      const r = spawnSync('altermime', [`--input=${work}`, `--disclaimer=${join(tmp, 'disclaimer.txt')}`, `--disclaimer-html=${join(tmp, 'disclaimer.html')}`, '--htmltoo'], { stdio: 'ignore' });
      if (r.status !== 0) failures++;
    }
    return performance.now() - t0;
  };
  run(); // warm the page cache
  failures = 0;
  let ms = 0;
  for (let p = 0; p < ALTERMIME_PASSES; p++) ms += run();
  alter = { ms: ms / ALTERMIME_PASSES, failures: failures / ALTERMIME_PASSES };
}

// ---- 100 MB message with a large attachment, signed in a child process --------------------
const bigFile = join(tmp, 'big.eml');
{
  const out = createWriteStream(bigFile);
  const w = (s: string | Buffer): Promise<void> => new Promise((res) => (out.write(s) ? res() : out.once('drain', () => res())));
  await w('From: Alice Example <alice@contoso.com>\r\nTo: bob@fabrikam.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="big-b"\r\n\r\n');
  await w('--big-b\r\nContent-Type: multipart/alternative; boundary="alt-b"\r\n\r\n--alt-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is the file.\r\n\r\n--alt-b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Here is the file.</p></body></html>\r\n--alt-b--\r\n');
  await w('--big-b\r\nContent-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n');
  const raw = Buffer.alloc(57 * 1024);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) & 255;
  const line = raw.toString('base64').replace(/.{76}/g, '$&\r\n');
  let written = 0;
  while (written < 100 * 1024 * 1024) {
    await w(line);
    written += line.length;
  }
  await w('\r\n--big-b--\r\n');
  await new Promise<void>((res) => out.end(res));
}
const bigSize = statSync(bigFile).size;
// bundle this file's child mode with only src/mime in it
const { build } = await import('esbuild');
const childJs = join(tmp, 'sign-child.mjs');
await build({
  stdin: {
    contents: `import { createReadStream, createWriteStream } from 'node:fs';
import { signMessage } from './src/mime/sign.ts';
const choice = JSON.parse(process.argv[3] === 'images' ? process.env.SIGOPS_BENCH_CHOICE_IMAGES : process.env.SIGOPS_BENCH_CHOICE);
for (const i of choice.blocks.images ?? []) i.data = Buffer.from(i.data, 'base64');
const t0 = performance.now();
const outcome = await signMessage(createReadStream(process.argv[2], { highWaterMark: 65536 }), createWriteStream('/dev/null'), () => choice);
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS, outcome }) + '\\n');`,
    resolveDir: ROOT,
    loader: 'ts',
    sourcefile: 'sign-child.ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: childJs,
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'error',
});
const blocksImages = imageBlocks(blocks);
const childEnv = {
  ...process.env,
  SIGOPS_BENCH_CHOICE: JSON.stringify({ kind: 'sign', placement: 'reply', blocks, rule: 'bench' }),
  SIGOPS_BENCH_CHOICE_IMAGES: JSON.stringify({ kind: 'sign', placement: 'reply', rule: 'bench', blocks: { ...blocksImages, images: [{ ...LOGO, data: Buffer.from(LOGO.data).toString('base64') }] } }),
};
const child = (file: string, variant = ''): { ms: number; maxRssKb: number; outcome: unknown } => {
  const r = spawnSync(process.execPath, [childJs, file, variant], { cwd: ROOT, encoding: 'utf8', env: childEnv });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ms: number; maxRssKb: number; outcome: unknown };
};
const bare = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.resourceUsage().maxRSS))'], { encoding: 'utf8' });
const nodeRssKb = Number(bare.stdout);
const small = join(tmp, 'small.eml');
copyFileSync(join(ROOT, 'test', 'fixtures', 'mail', 'gmail.eml'), small);
const baseline = child(small);
const big = child(bigFile);
const bigImages = child(bigFile, 'images');
rmSync(tmp, { recursive: true, force: true });

// ---- report -------------------------------------------------------------------------------------
const fmt = (n: number, d = 1): string => n.toFixed(d);
const altRate = alter ? { msgs: messages.length / (alter.ms / 1000), mbs: totalBytes / 1048576 / (alter.ms / 1000) } : undefined;
const report = `# Signing engine benchmark

Command: \`npm run bench:sign\` (\`node --import tsx bench/sign.ts --rounds ${ROUNDS}\`)
Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}

Corpus mix: ${messages.length} messages, ${fmt(totalBytes / 1048576, 2)} MB (../shared/corpus mailparser + mimekit + talon-replies, and test/fixtures/mail), ${signedCount} signed, the rest passed through with a reason.

| | messages/s | MB/s | ratio |
|---|---:|---:|---:|
| sigops signMessage (in process, 64 KB chunks, example-config policy) | ${fmt(sig.msgs, 0)} | ${fmt(sig.mbs)} | — |
| sigops signMessage with an embedded 12 KB image (multipart/related) | ${fmt(img.msgs, 0)} | ${fmt(img.mbs)} | ${fmt((100 * sigopsMs) / imagesMs, 0)} % of sigops without |
| bare pass-through (same bytes, same sink, no parsing) | ${fmt(pass.msgs, 0)} | ${fmt(pass.mbs)} | sigops = ${fmt((100 * passMs) / sigopsMs, 0)} % of it |
${altRate ? `| GNU altermime ${altermime.stdout.trim().split('\n')[0] ?? ''} per message, on a copy, as a Postfix content filter runs it | ${fmt(altRate.msgs, 0)} | ${fmt(altRate.mbs, 2)} | sigops is **${fmt(sig.msgs / altRate.msgs, 0)}×** faster |` : '| GNU altermime | not installed | | |'}

${alter ? `altermime exited non-zero on ${alter.failures} of ${messages.length} messages (counted in its time). ` : ''}Per round: sigops ${fmt(perRound(sigopsMs), 1)} ms, with an embedded image ${fmt(perRound(imagesMs), 1)} ms, pass-through ${fmt(perRound(passMs), 1)} ms${alter ? `, altermime ${fmt(alter.ms, 0)} ms` : ''}.
altermime only appends at the bottom and forks a process per message (that is how content filters run it); sigops streams inside the relay's process and places the block under the newest reply.

## 100 MB message with a large attachment

A ${fmt(bigSize / 1048576, 0)} MB message (text + HTML alternative, then a base64 attachment) signed by \`signMessage\` in a child process (plain Node running an esbuild bundle of src/mime, no TypeScript loader) from a file to /dev/null:

| | time | peak RSS (process.resourceUsage().maxRSS) |
|---|---:|---:|
| 100 MB message | ${fmt(big.ms / 1000, 2)} s (${fmt(bigSize / 1048576 / (big.ms / 1000), 0)} MB/s) | **${fmt(big.maxRssKb / 1024, 0)} MB** |
| 100 MB message, with an embedded 12 KB image | ${fmt(bigImages.ms / 1000, 2)} s (${fmt(bigSize / 1048576 / (bigImages.ms / 1000), 0)} MB/s) | **${fmt(bigImages.maxRssKb / 1024, 0)} MB** |
| baseline: same child signing a 1 KB reply | ${fmt(baseline.ms, 1)} ms | ${fmt(baseline.maxRssKb / 1024, 0)} MB |
| reference: \`node -e\` doing nothing | | ${fmt(nodeRssKb / 1024, 0)} MB |

Outcome of the big message: \`${JSON.stringify(big.outcome)}\` (with the image: \`${JSON.stringify(bigImages.outcome)}\`). Target: peak RSS under 100 MB — ${big.maxRssKb / 1024 < 100 ? 'met' : 'NOT met'}.
`;
process.stdout.write(report);
if (args.includes('--write')) writeFileSync(join(ROOT, 'bench', 'results', 'sign.md'), report);
