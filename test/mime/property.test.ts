// Property-based tests on generated MIME: random structure, encodings, charsets, line endings
// and chunk boundaries. The output must be valid MIME with every part but the two signed text
// parts byte-identical, the signed parts changed by exactly one insertion, and the output must
// not depend on how the input was chunked.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { SIGN, sign, verifyOutput } from './helpers.ts';

type Charset = 'utf-8' | 'iso-8859-1' | 'windows-1252' | 'koi8-r' | 'iso-2022-jp' | 'us-ascii' | 'shift_jis';
type Cte = '7bit' | '8bit' | 'quoted-printable' | 'base64';

const WORDS: Record<Charset, string[]> = {
  'us-ascii': ['Hello', 'Bob', 'thanks', 'see', 'you', 'Friday', '=', '--', 'From', '.'],
  'utf-8': ['Grüße', 'naïve', '€5', '😀', '会議', 'Привет', 'ok', 'thanks'],
  'iso-8859-1': ['Grüße', 'déjà', 'vu', 'Ça', 'va', 'ok'],
  'windows-1252': ['“quoted”', '€', '–', 'Grüße', 'ok'],
  'koi8-r': ['Привет', 'мир', 'ok'],
  'iso-2022-jp': ['会議', 'です', 'アリス', 'ok'],
  shift_jis: ['会議', 'です', 'ｶﾀｶﾅ', 'ok'],
};
const QUOTES_TEXT = ['', 'On Mon, 3 Nov 2025, Bob wrote:\n> earlier\n> text', '-----Original Message-----\nFrom: Bob\nSent: Monday', '________________________________\nFrom: Bob\nSent: x', 'Am 03.11.2025 schrieb Bob:\n> alt'];
const QUOTES_HTML = [
  '',
  '<div class="gmail_quote"><div class="gmail_attr">On Mon, Bob wrote:</div><blockquote class="gmail_quote">old</blockquote></div>',
  '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Bob<br><b>Sent:</b> x</div><div>old</div>',
  '<div class="moz-cite-prefix">On 03/11/2025, Bob wrote:<br></div><blockquote type="cite">old</blockquote>',
  '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Bob<br><b>Sent:</b> x</p></div>',
];

interface Leaf {
  kind: 'plain' | 'html' | 'file' | 'message';
  charset: Charset;
  cte: Cte;
  words: string[];
  quote: number;
  bytes: Uint8Array;
  name?: string;
}
interface Multi {
  subtype: 'alternative' | 'mixed' | 'related' | 'digest' | 'parallel';
  children: Tree[];
  preamble: boolean;
  epilogue: boolean;
}
type Tree = Leaf | Multi;

const charsetArb = fc.constantFrom<Charset>('utf-8', 'iso-8859-1', 'windows-1252', 'koi8-r', 'iso-2022-jp', 'us-ascii', 'shift_jis');
const leafArb: fc.Arbitrary<Leaf> = fc
  .record({
    kind: fc.constantFrom<Leaf['kind']>('plain', 'html', 'plain', 'html', 'file', 'message'),
    charset: charsetArb,
    cte: fc.constantFrom<Cte>('7bit', '8bit', 'quoted-printable', 'base64'),
    n: fc.integer({ min: 0, max: 40 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
    quote: fc.integer({ min: 0, max: 4 }),
    bytes: fc.uint8Array({ maxLength: 3000 }),
    named: fc.boolean(),
  })
  .map(({ kind, charset, cte, n, seed, quote, bytes, named }) => {
    const pool = [...WORDS[charset], ...WORDS['us-ascii']];
    const words = Array.from({ length: n }, (_, i) => pool[(seed + i * 7) % pool.length]!);
    return { kind, charset, cte, words, quote, bytes, ...(named && kind === 'file' ? { name: `file-${seed}.bin` } : {}) };
  });

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree; multi: Multi }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('multi')),
  multi: fc.record({
    subtype: fc.constantFrom<Multi['subtype']>('alternative', 'mixed', 'related', 'mixed', 'alternative', 'digest', 'parallel'),
    children: fc.array(tie('tree'), { minLength: 0, maxLength: 4 }),
    preamble: fc.boolean(),
    epilogue: fc.boolean(),
  }),
})).tree;

function textOf(leaf: Leaf, eol: string): string {
  let lines: string[] = [];
  for (let i = 0; i < leaf.words.length; i += 6) lines.push(leaf.words.slice(i, i + 6).join(' '));
  if (leaf.kind === 'html') return `<html><body><p>${lines.join('<br>' + eol)}</p>${QUOTES_HTML[leaf.quote]}</body></html>${eol}`;
  if (QUOTES_TEXT[leaf.quote]) lines = [...lines, '', ...QUOTES_TEXT[leaf.quote]!.split('\n')];
  return lines.join(eol) + eol;
}

/** Simple, obviously correct encoders, independent of the engine's. */
function qp(data: Buffer, eol: string): string {
  let out = '';
  let line = '';
  for (const b of data) {
    const tok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? String.fromCharCode(b) : '=' + b.toString(16).toUpperCase().padStart(2, '0');
    if (line.length + tok.length > 72) ((out += line + '=' + eol), (line = ''));
    line += tok;
  }
  return out + line;
}
function b64(data: Buffer, eol: string): string {
  const s = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += 76) lines.push(s.slice(i, i + 76));
  return lines.join(eol);
}

/** ISO-2022-JP from iconv-lite's EUC-JP (JIS X 0208 only; the words above stay within it). */
function iso2022jp(text: string): Buffer {
  const euc = iconv.encode(text, 'euc-jp');
  const out: number[] = [];
  let jis = false;
  for (let i = 0; i < euc.length; i++) {
    const c = euc[i]!;
    if (c < 0x80) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(c);
    } else {
      if (!jis) out.push(0x1b, 0x24, 0x42);
      jis = true;
      out.push(c & 0x7f, euc[++i]! & 0x7f);
    }
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

let uniq = 0;
function render(tree: Tree, eol: string, depth = 0): string {
  if ('subtype' in tree) {
    const boundary = `=_b${uniq++}.${'x'.repeat(depth)}'()+_,-./:=?`;
    const parts = tree.children.map((c) => `--${boundary}${eol}${render(c, eol, depth + 1)}${eol}`).join('');
    return `Content-Type: multipart/${tree.subtype};${eol} boundary="${boundary}"${eol}${eol}${tree.preamble ? `This is a multi-part message.${eol}` : ''}${parts}--${boundary}--${eol}${tree.epilogue ? `epilogue${eol}` : ''}`;
  }
  if (tree.kind === 'message') {
    const inner = render({ kind: 'plain', charset: 'us-ascii', cte: '7bit', words: ['inner', 'message'], quote: 1, bytes: new Uint8Array() }, eol, depth + 1);
    return `Content-Type: message/rfc822${eol}${eol}From: x@y${eol}Subject: inner${eol}${inner}`;
  }
  if (tree.kind === 'file') {
    const disp = tree.name ? `Content-Disposition: attachment; filename="${tree.name}"${eol}` : '';
    return `Content-Type: application/octet-stream${tree.name ? `; name="${tree.name}"` : ''}${eol}${disp}Content-Transfer-Encoding: base64${eol}${eol}${b64(Buffer.from(tree.bytes), eol)}`;
  }
  const text = textOf(tree, eol);
  const bytes = tree.charset === 'iso-2022-jp' ? iso2022jp(text) : iconv.encode(text, tree.charset === 'us-ascii' ? 'latin1' : tree.charset);
  let cte = tree.cte;
  if (cte === '7bit' && /[\x80-\xff]/.test(bytes.toString('latin1'))) cte = 'quoted-printable';
  const body = cte === 'base64' ? b64(bytes, eol) : cte === 'quoted-printable' ? qp(bytes, eol) : bytes.toString('latin1');
  return `Content-Type: text/${tree.kind}; charset="${tree.charset}"${eol}Content-Transfer-Encoding: ${cte}${eol}${eol}${body}`;
}

function message(tree: Tree, eol: string): Buffer {
  return Buffer.from(`From: Alice <alice@contoso.com>${eol}To: bob@fabrikam.com${eol}Subject: generated${eol}MIME-Version: 1.0${eol}${render(tree, eol)}`, 'latin1');
}

const chunksArb = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });

describe('generated MIME', () => {
  it('comes out valid; non-text parts byte-identical; text parts changed by one insertion', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.constantFrom('\r\n', '\n'), fc.constantFrom<'reply' | 'bottom'>('reply', 'bottom'), async (tree, eol, placement) => {
        const input = message(tree, eol);
        const { out, outcome } = await sign(input, { ...SIGN, placement });
        verifyOutput(input, out, outcome);
      }),
      { numRuns: Number(process.env.SIGOPS_FC_RUNS ?? 250) },
    );
  });

  it('gives the same output whatever the chunking of the input', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.constantFrom('\r\n', '\n'), chunksArb, async (tree, eol, chunks) => {
        const input = message(tree, eol);
        const whole = await sign(input, SIGN, { chunk: input.length + 1 });
        const split = await sign(input, SIGN, { chunk: chunks });
        assert.ok(split.out.equals(whole.out));
        assert.deepEqual(split.outcome, whole.outcome);
      }),
      { numRuns: Number(process.env.SIGOPS_FC_RUNS ?? 200) },
    );
  });

  it('any truncation of a generated message still never throws and only inserts', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.double({ min: 0, max: 1, noNaN: true }), async (tree, at) => {
        const full = message(tree, '\r\n');
        const input = full.subarray(0, Math.floor(full.length * at));
        const { out, outcome } = await sign(input, SIGN, { chunk: [7, 100] });
        if (!outcome.signed) {
          const s = out.toString('latin1');
          const i = s.indexOf('X-Sigops-Processed: true\r\n');
          const candidates = [s.slice(0, i) + s.slice(i + 26), s.slice(0, i - 2) + s.slice(i + 26)];
          assert.ok(candidates.includes(input.toString('latin1')), 'unsigned output is the input plus our header');
        } else {
          // a truncated single part is indistinguishable from a short one: it may be signed
          assert.ok(out.includes('X-Sigops-Processed: true'));
        }
      }),
      { numRuns: Number(process.env.SIGOPS_FC_RUNS ?? 200) },
    );
  });
});

describe('mutated real messages', () => {
  const FILES = ['owa.eml', 'outlook-desktop.eml', 'gmail.eml', 'thunderbird.eml', 'plain-iso-2022-jp.eml', 'apple-mail.eml'].map((f) =>
    readFileSync(join(import.meta.dirname, '..', 'fixtures', 'mail', f)),
  );
  const mutation = fc.record({
    file: fc.integer({ min: 0, max: FILES.length - 1 }),
    edits: fc.array(
      fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), del: fc.integer({ min: 0, max: 40 }), ins: fc.constantFrom('', '\r\n', '--', '\r\n--', '=', '=\r\n', '\xff\xfe', '>', '<div>', 'boundary="x"', '\n\n', 'Content-Type: text/html\r\n\r\n') }),
      { maxLength: 5 },
    ),
  });
  it('never throw, do not depend on chunking, and pass unchanged when not signed', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, chunksArb, async ({ file, edits }, chunks) => {
        let s = FILES[file]!.toString('latin1');
        for (const e of edits) {
          const at = Math.floor(s.length * e.at);
          s = s.slice(0, at) + e.ins + s.slice(at + e.del);
        }
        const input = Buffer.from(s, 'latin1');
        const whole = await sign(input, SIGN, { chunk: input.length + 1 });
        const split = await sign(input, SIGN, { chunk: chunks });
        assert.ok(split.out.equals(whole.out), 'chunking does not matter');
        if (!whole.outcome.signed) {
          const o = whole.out.toString('latin1');
          const i = o.indexOf('X-Sigops-Processed: true');
          const eolLen = o[i + 24] === '\r' ? 2 : 1;
          const candidates = [o.slice(0, i) + o.slice(i + 24 + eolLen), o.slice(0, i - eolLen) + o.slice(i + 24 + eolLen), o.slice(0, i - eolLen) + o.slice(i + 24)];
          assert.ok(whole.outcome.reason === 'already-processed' ? whole.out.equals(input) : candidates.includes(s), `unsigned (${whole.outcome.reason}) output is the input plus our header`);
        }
      }),
      { numRuns: Number(process.env.SIGOPS_FC_RUNS ?? 150) },
    );
  });
});
