// The fuzzer of the signing engine (signMessage, src/mime): its inputs, properties and budget,
// shared by the fuzz-signer*.test.ts files (one property each, so that every file stays within
// the test runner's per-file timeout at full length). Property-based, with fast-check. Property-based rather than coverage-guided: the interesting inputs are structured
// (nested multiparts whose boundaries match, encodings that decode, a signature that collides
// with a boundary of the very message it goes into), which a byte-level coverage-guided fuzzer
// rarely builds; fast-check builds them on purpose, shrinks a failure to a minimal message, and
// replays it from a seed. No coverage-guided fuzzer for Node runs without native builds here.
//
// Inputs: generated MIME trees (nesting, subtypes the engine walks and ones it must not, random
// and colliding boundaries, charsets, transfer encodings, missing closes, preambles, LF or CRLF,
// hostile bytes in bodies and headers), each signed with hostile signature blocks (control
// characters, bare CR, long lines, lines that read as the message's own boundaries); the same
// messages mutated byte by byte; and random bytes. Properties, for every input:
//   - signMessage never throws (choose does not), or only a typed SigopsError;
//   - it terminates (each run within a deadline);
//   - the output is bounded (at most 3x the input plus the signature, 4 KB of slack);
//   - it does not depend on how the input is chunked;
//   - it adds no control character (but CR, LF, tab) that the input did not have;
//   - unsigned output is the input plus our X-Sigops-Processed line;
//   - for generated trees, the output is valid MIME: the same tree, every part but the two
//     signed text parts byte-identical, those changed by one insertion, lines within 998
//     (verifyOutput of test/mime/helpers.ts).
// Budget per property: SIGOPS_RELIABILITY=full 100,000 runs or the file's time (90, 90, 60 and
// 20 s: 4 min 20 s in all); short 1,000 runs or 10 s. SIGOPS_FUZZ_SEED replays a run (the seed
// is printed with the figures).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SigopsError } from '../../src/errors/index.ts';
import { decodeQuotedPrintable, encodeQuotedPrintable } from '../../src/mime/encoding.ts';
import type { SignOutcome, SigningChoice } from '../../src/mime/index.ts';
import { sign, verifyOutput } from '../mime/helpers.ts';
import { FULL } from './hostile-smtp.ts';

export const RUNS = FULL ? 100_000 : 1_000;
/** The short run's time budget per property; full runs give each property its own. */
export const SHORT_TIME_MS = 10_000;
const RUN_DEADLINE_MS = 5_000;
export const SEED = process.env.SIGOPS_FUZZ_SEED ? Number(process.env.SIGOPS_FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);

type Charset = 'utf-8' | 'iso-8859-1' | 'us-ascii' | 'windows-1252' | 'x-unknown';
type Cte = '7bit' | '8bit' | 'quoted-printable' | 'base64' | 'x-token';
interface Leaf {
  readonly kind: 'plain' | 'html' | 'file' | 'calendar' | 'message';
  readonly charset: Charset;
  readonly cte: Cte;
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly attachment: boolean;
}
interface Multi {
  readonly subtype: 'alternative' | 'mixed' | 'related' | 'digest' | 'signed' | 'report';
  readonly boundary: string;
  readonly children: Tree[];
  readonly preamble: string;
  readonly epilogue: string;
  readonly closed: boolean;
}
type Tree = Leaf | Multi;

// boundaries from a small pool, so that nested ones collide and prefix each other
const BOUNDARIES = ['b', 'b1', 'bb', '=_part', '=_part_1', 'frontier', '----=_NextPart_000', 'b1_reply_boundary'];
// body text tokens: quote markers, dots, dashes, QP specials, bare line breaks, 8-bit, NUL
const TOKENS = ['Hi', 'Bob', 'thanks', 'Grüße', '😀', '€', '>', '> quoted', '.', '..', '--', '-- ', '=', '=3D', '=\r\n', 'From ', 'On Mon, Bob wrote:', '-----Original Message-----', '\r', '\n', '\r\n', '\t', '\x00', '\xff', '<p>', '</div>', '<blockquote>', '&amp;'];

const leafArb: fc.Arbitrary<Leaf> = fc.record({
  kind: fc.constantFrom<Leaf['kind']>('plain', 'html', 'plain', 'html', 'file', 'calendar', 'message'),
  charset: fc.constantFrom<Charset>('utf-8', 'iso-8859-1', 'us-ascii', 'windows-1252', 'x-unknown'),
  cte: fc.constantFrom<Cte>('7bit', '8bit', 'quoted-printable', 'base64', '7bit', 'x-token'),
  text: fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(' ')),
  bytes: fc.uint8Array({ maxLength: 600 }),
  attachment: fc.constantFrom(false, false, false, true),
});

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree; multi: Multi }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('multi')),
  multi: fc.record({
    subtype: fc.constantFrom<Multi['subtype']>('alternative', 'mixed', 'related', 'mixed', 'alternative', 'digest', 'signed', 'report'),
    boundary: fc.constantFrom(...BOUNDARIES),
    children: fc.array(tie('tree'), { maxLength: 4 }),
    preamble: fc.constantFrom('', 'This is a multi-part message in MIME format.', '--not-a-boundary'),
    // (a preamble or epilogue that is a boundary of an enclosing part would change the tree:
    // that is left to the mutated messages, which are not held to the valid-MIME property)
    epilogue: fc.constantFrom('', 'epilogue', '--epilogue-with-dashes'),
    closed: fc.constantFrom(true, true, true, true, false),
  }),
})).tree;

function qp(data: Buffer, eol: string): string {
  let out = '';
  let line = '';
  for (const b of data) {
    const tok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x20 ? String.fromCharCode(b) : '=' + b.toString(16).toUpperCase().padStart(2, '0');
    if (line.length + tok.length > 72) {
      out += line + '=' + eol;
      line = '';
    }
    line += tok;
  }
  return out + line;
}

function b64(data: Buffer, eol: string): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(eol);
}

function render(tree: Tree, eol: string): string {
  if ('subtype' in tree) {
    const b = tree.boundary;
    const parts = tree.children.map((c) => `--${b}${eol}${render(c, eol)}${eol}`).join('');
    const close = tree.closed ? `--${b}--${eol}` : '';
    return `Content-Type: multipart/${tree.subtype}; boundary="${b}"${eol}${eol}${tree.preamble ? tree.preamble + eol : ''}${parts}${close}${tree.epilogue ? tree.epilogue + eol : ''}`;
  }
  if (tree.kind === 'message') return `Content-Type: message/rfc822${eol}${eol}From: x@example.org${eol}Subject: inner${eol}${eol}${tree.text}${eol}`;
  if (tree.kind === 'calendar') return `Content-Type: text/calendar; method=REQUEST${eol}${eol}BEGIN:VCALENDAR${eol}END:VCALENDAR${eol}`;
  if (tree.kind === 'file') {
    const disp = tree.attachment ? `Content-Disposition: attachment; filename="f.bin"${eol}` : '';
    return `Content-Type: application/octet-stream${eol}${disp}Content-Transfer-Encoding: base64${eol}${eol}${b64(Buffer.from(tree.bytes), eol)}`;
  }
  const text = tree.kind === 'html' ? `<html><body><p>${tree.text}</p></body></html>` : tree.text;
  const raw = Buffer.from(text.replace(/\r\n|\r|\n/g, eol), tree.charset === 'utf-8' ? 'utf8' : 'latin1');
  // 8-bit text declared 7bit is the sender's error, not a case for the valid-MIME property
  const cte = tree.cte === '7bit' && /[\x80-\xff]/.test(raw.toString('latin1')) ? '8bit' : tree.cte;
  const body = cte === 'base64' ? b64(raw, eol) : cte === 'quoted-printable' ? qp(raw, eol) : raw.toString('latin1');
  const disp = tree.attachment ? `Content-Disposition: attachment${eol}` : '';
  return `Content-Type: text/${tree.kind}; charset="${tree.charset}"${eol}Content-Transfer-Encoding: ${cte}${eol}${disp}${eol}${body}${eol}`;
}

/** The same tree with every boundary used once (a boundary repeated inside its own part is ambiguous MIME). */
function uniquify(tree: Tree, seen = new Set<string>()): Tree {
  if (!('subtype' in tree)) return tree;
  let boundary = tree.boundary;
  for (let n = 1; seen.has(boundary); n++) boundary = `${tree.boundary}_${n}`;
  seen.add(boundary);
  return { ...tree, boundary, children: tree.children.map((c) => uniquify(c, seen)) };
}

function boundariesOf(tree: Tree): string[] {
  return 'subtype' in tree ? [tree.boundary, ...tree.children.flatMap(boundariesOf)] : [];
}

const headerArb = fc.record({
  subject: fc.constantFrom('Quarterly numbers', '=?utf-8?q?Gr=C3=BC=C3=9Fe?=', 'x'.repeat(1200), 'a\tb', 'Re: Re: Fwd:'),
  extra: fc.constantFrom('', 'X-Sigops-Processed: true', 'Auto-Submitted: auto-replied', 'Return-Path: <>', 'X-Note: bare\rCR', 'Content-Class: urn:content-classes:calendarmessage', 'X-Folded: a\r\n b'),
});

function message(tree: Tree, eol: string, h: { subject: string; extra: string }): Buffer {
  const extra = h.extra ? h.extra.replace(/\r\n/g, eol) + eol : '';
  return Buffer.from(`From: Alice <alice@contoso.com>${eol}To: bob@example.org${eol}Subject: ${h.subject}${eol}MIME-Version: 1.0${eol}${extra}${render(tree, eol)}`, 'latin1');
}

/** Signature blocks built to hurt: control characters, bare CR, long lines, the message's own boundaries. */
function blocksArb(boundaries: readonly string[]): fc.Arbitrary<{ html: string; text: string }> {
  const dash = boundaries.length > 0 ? boundaries.flatMap((b) => [`--${b}`, `--${b}--`, `x --${b}`]) : ['--b'];
  const piece = fc.constantFrom('Alice Example', 'Sales Lead | Sales', '+1 555 0100', 'Grüße 😀', '-- ', '.', '..', '\r', '\n', '\r\n', '\x00', '\x1b[31m', '\x7f', '\t', 'x'.repeat(1100), 'Bcc: victim@example.org', 'Content-Type: text/html', '<b>bold</b>', '&amp;', ...dash);
  const lines = fc.array(piece, { minLength: 1, maxLength: 12 }).map((p) => p.join(''));
  return fc.record({ html: lines.map((l) => `<p>${l}</p>`), text: lines });
}

export interface Sample {
  readonly input: Buffer;
  readonly blocks: { html: string; text: string };
  readonly placement: 'reply' | 'bottom';
  readonly chunks: number[];
  /** Generated trees must come out as valid MIME; mutated and random bytes only keep the general properties. */
  readonly structured: boolean;
}

const chunksArb = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 });

export const generatedArb: fc.Arbitrary<Sample> = fc
  .tuple(treeArb.map((t) => uniquify(t)), fc.constantFrom('\r\n', '\n'), headerArb)
  .chain(([tree, eol, h]) =>
    fc.record({
      input: fc.constant(message(tree, eol, h)),
      blocks: blocksArb(boundariesOf(tree)),
      placement: fc.constantFrom<'reply' | 'bottom'>('reply', 'bottom'),
      chunks: chunksArb,
      structured: fc.constant(true),
    }),
  );

const MUTATIONS = ['', '\r', '\n', '\r\n', '--', '\r\n--b\r\n', '\r\n--b--\r\n', '=', '\x00', '\xff', 'Content-Type: multipart/mixed; boundary=b\r\n', '\r\n\r\n', '.'];
export const mutatedArb: fc.Arbitrary<Sample> = fc
  .tuple(generatedArb, fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), del: fc.integer({ min: 0, max: 30 }), ins: fc.constantFrom(...MUTATIONS) }), { minLength: 1, maxLength: 6 }))
  .map(([s, edits]) => {
    let t = s.input.toString('latin1');
    for (const e of edits) {
      const at = Math.floor(t.length * e.at);
      t = t.slice(0, at) + e.ins + t.slice(at + e.del);
    }
    return { ...s, input: Buffer.from(t, 'latin1'), structured: false };
  });

export const randomArb: fc.Arbitrary<Sample> = fc.record({
  input: fc.oneof(
    fc.uint8Array({ maxLength: FULL ? 65_536 : 8192 }).map((u) => Buffer.from(u)),
    fc.uint8Array({ maxLength: 4096 }).map((u) => Buffer.concat([Buffer.from('From: a@contoso.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n'), Buffer.from(u)])),
  ),
  blocks: blocksArb(['b']),
  placement: fc.constantFrom<'reply' | 'bottom'>('reply', 'bottom'),
  chunks: chunksArb,
  structured: fc.constant(false),
});

const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const controls = (b: Buffer): number => (b.toString('latin1').match(CONTROL) ?? []).length;

/** signMessage within the per-run deadline; a throw that is not a SigopsError fails the property. */
async function signWithin(s: Sample, chunk: number | readonly number[]): Promise<{ out: Buffer; outcome: SignOutcome } | 'typed-error'> {
  const choice: SigningChoice = { kind: 'sign', blocks: s.blocks, placement: s.placement, rule: 'fuzz' };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`signMessage did not finish within ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
  });
  try {
    return await Promise.race([sign(s.input, choice, { chunk }), hang]);
  } catch (err) {
    if (err instanceof SigopsError) return 'typed-error';
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export async function check(s: Sample): Promise<void> {
  const whole = await signWithin(s, s.input.length + 1);
  const split = await signWithin(s, s.chunks);
  if (whole === 'typed-error' || split === 'typed-error') {
    assert.equal(whole, split, 'a typed error whatever the chunking');
    return;
  }
  const { out, outcome } = whole;
  assert.ok(split.out.equals(out), 'the output does not depend on the chunking');
  assert.deepEqual(split.outcome, outcome);
  const blockBytes = Buffer.byteLength(s.blocks.html) + Buffer.byteLength(s.blocks.text);
  assert.ok(out.length <= 3 * s.input.length + 8 * blockBytes + 4096, `bounded output: ${out.length} bytes from ${s.input.length}`);
  assert.ok(controls(out) <= controls(s.input), 'no control character added');
  if (outcome.reason === 'already-processed') {
    assert.ok(out.equals(s.input), 'already processed: unchanged');
  } else if (!outcome.signed) {
    // our line may be any occurrence of the text (the input may carry look-alikes)
    const o = out.toString('latin1');
    const input = s.input.toString('latin1');
    let found = false;
    for (let i = o.indexOf('X-Sigops-Processed: true'); i >= 0 && !found; i = o.indexOf('X-Sigops-Processed: true', i + 1)) {
      const e = o[i + 24] === '\r' ? 2 : 1;
      const candidates = [o.slice(0, i) + o.slice(i + 24 + e), o.slice(0, i - e) + o.slice(i + 24 + e), o.slice(0, i - e) + o.slice(i + 24)];
      found = candidates.includes(input);
    }
    assert.ok(found, `unsigned (${outcome.reason}): the input plus our header`);
  }
  if (s.structured && outcome.reason !== 'already-processed') verifyOutput(s.input, out, outcome);
}

/** Text-like bytes with dashes, dots, '=' and line breaks where quoted-printable breaks lines. */
export const qpInputArb = fc
  .array(fc.oneof(fc.constantFrom('-', '--', '--frontier', '=', '.', ' ', '\t', '\r\n', '\n', '\r', 'x'.repeat(70), 'ü'), fc.string({ maxLength: 20 })), { maxLength: 80 })
  .map((p) => Buffer.from(p.join(''), 'utf8'));

export function checkQuotedPrintable(data: Buffer, eol: '\r\n' | '\n'): void {
  const enc = encodeQuotedPrintable(data, eol);
  assert.ok(decodeQuotedPrintable(enc).equals(data), 'decodes to the same bytes');
  for (const line of enc.toString('latin1').split(eol)) {
    assert.ok(line.length <= 76, `line within 76: ${line.length}`);
    assert.ok(!line.startsWith('-'), `no encoded line starts with "-": ${JSON.stringify(line.slice(0, 20))}`);
  }
}

/** Runs `property` for the budget (RUNS, or `fullMs` at full length), fails with the shrunk counterexample, returns the figure. */
export async function runBudget<Ts>(name: string, property: fc.IRawProperty<Ts>, fullMs: number, runs = RUNS): Promise<string> {
  const timeMs = FULL ? fullMs : SHORT_TIME_MS;
  const started = Date.now();
  const details = await fc.check(property, { numRuns: runs, seed: SEED, plugins: [fc.interruptAfterTimeLimit(timeMs)] });
  const figure = `${name}: ${details.numRuns.toLocaleString('en')} executions in ${((Date.now() - started) / 1000).toFixed(1)} s (budget ${runs.toLocaleString('en')} runs or ${timeMs / 1000} s${details.interrupted ? ', time reached' : ''}), seed ${SEED}`;
  process.stdout.write(`# reliability fuzz (${FULL ? 'full' : 'short'}): ${figure}\n`);
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${cause}\n${fc.defaultReportMessage(details) ?? ''}`);
  }
  if (details.numRuns === 0) throw new Error(`${name}: no execution at all`);
  return figure;
}
