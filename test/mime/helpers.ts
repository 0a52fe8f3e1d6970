// Test helpers: feed messages to signMessage in chosen chunk sizes, and an independent MIME
// parser (regex and recursion over the whole message, nothing shared with the streaming engine)
// to check what comes out.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import iconv from 'iconv-lite';
import { signMessage, type ChooseFn, type SignOptions, type SignOutcome, type SigningChoice } from '../../src/mime/index.ts';

export const BLOCKS = {
  html: '<table data-test="sig"><tr><td><b>Alice Example</b> | Sales Lead<br>Contoso Ltd – Seattle</td></tr></table>',
  text: 'Alice Example | Sales Lead\nContoso Ltd – Seattle',
};

export const SIGN: Extract<SigningChoice, { kind: 'sign' }> = { kind: 'sign', blocks: BLOCKS, placement: 'reply', rule: 'default' };

export function chunked(buf: Buffer, sizes: number | readonly number[] = 64 * 1024): Readable {
  const list = typeof sizes === 'number' ? [sizes] : sizes;
  let pos = 0;
  let n = 0;
  return new Readable({
    read() {
      if (pos >= buf.length) {
        this.push(null);
        return;
      }
      const size = Math.max(1, list[n++ % list.length]!);
      this.push(buf.subarray(pos, pos + size));
      pos += size;
    },
  });
}

export class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    cb();
  }
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export async function sign(
  input: Buffer,
  choice: SigningChoice | ChooseFn = SIGN,
  opts: { chunk?: number | readonly number[]; options?: SignOptions } = {},
): Promise<{ out: Buffer; outcome: SignOutcome }> {
  const out = new Collector();
  const choose: ChooseFn = typeof choice === 'function' ? choice : () => choice;
  const outcome = await signMessage(chunked(input, opts.chunk), out, choose, opts.options);
  return { out: out.data, outcome };
}

// ---------------------------------------------------------------- independent MIME parser

export interface Node {
  headers: Array<[string, string]>;
  headerRaw: string; // latin1
  bodyRaw: Buffer;
  type: string; // lower-case type/subtype
  params: Record<string, string>;
  children?: Node[];
  path: string;
}

function header(n: Node, name: string): string | undefined {
  return n.headers.find(([k]) => k === name)?.[1];
}

function parseParams(v: string): { value: string; params: Record<string, string> } {
  const [first, ...rest] = v.split(';');
  const params: Record<string, string> = {};
  for (const m of (';' + rest.join(';')).matchAll(/;\s*([\w*.-]+)\s*=\s*("([^"]*)"|[^;\s]*)/g)) {
    params[m[1]!.toLowerCase()] = m[3] ?? m[2]!;
  }
  return { value: (first ?? '').trim().toLowerCase(), params };
}

export function parseMime(buf: Buffer, path = 'root', depth = 0): Node {
  const s = buf.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  const start = /^\r?\n/.exec(s);
  const headEnd = start ? 0 : m ? m.index : s.length;
  const bodyStart = start ? start[0].length : m ? m.index + m[0].length : s.length;
  const headerRaw = s.slice(0, headEnd);
  const headers: Array<[string, string]> = [];
  for (const line of headerRaw.split(/\r?\n(?![ \t])/)) {
    const c = line.indexOf(':');
    if (c > 0) headers.push([line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).replace(/\r?\n[ \t]+/g, ' ').trim()]);
  }
  const ct = parseParams(headers.find(([k]) => k === 'content-type')?.[1] ?? 'text/plain');
  const node: Node = { headers, headerRaw, bodyRaw: buf.subarray(bodyStart), type: ct.value, params: ct.params, path };
  const boundary = ct.params.boundary;
  if (ct.value.startsWith('multipart/') && boundary && depth < 60) {
    const body = s.slice(bodyStart);
    const esc = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(^|\\r?\\n)--${esc}(--)?[ \\t]*(\\r?\\n|$)`, 'g');
    const children: Node[] = [];
    let last: number | undefined;
    let closed = false;
    for (const d of body.matchAll(re)) {
      if (last !== undefined) children.push(parseMime(Buffer.from(body.slice(last, d.index), 'latin1'), `${path}.${children.length}`, depth + 1));
      last = d.index + d[0].length;
      if (d[2]) {
        closed = true;
        break;
      }
    }
    if (!closed && last !== undefined) children.push(parseMime(Buffer.from(body.slice(last), 'latin1'), `${path}.${children.length}`, depth + 1));
    node.children = children;
  }
  return node;
}

export function leaves(n: Node): Node[] {
  return n.children ? n.children.flatMap(leaves) : [n];
}

function decodeQp(b: Buffer): Buffer {
  const s = b.toString('latin1').replace(/[ \t]+(\r?\n)/g, '$1').replace(/=\r?\n/g, '');
  return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

export function decodedBody(n: Node): Buffer {
  let raw = n.bodyRaw;
  const cte = (header(n, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  if (cte === 'base64') return Buffer.from(raw.toString('latin1'), 'base64');
  if (cte === 'quoted-printable') raw = decodeQp(raw);
  return raw;
}

/** Decoded text of a text part (charset via the WHATWG TextDecoder, not iconv-lite). */
export function decodedText(n: Node): string {
  const charset = (n.params.charset ?? 'us-ascii').toLowerCase();
  const body = decodedBody(n);
  // Node's TextDecoder reads windows-125x as latin1, so those go through iconv-lite
  if (charset === 'us-ascii' || charset === 'ascii') return body.toString('latin1');
  if (/^(windows|cp)-?125\d$/.test(charset)) return iconv.decode(body, charset);
  return new TextDecoder(charset).decode(body);
}

/**
 * The first text/html and text/plain body parts: in a single-part message or inside
 * multipart/alternative, mixed or related; not attachments, not named files.
 */
export function bodyParts(root: Node): { html?: Node; text?: Node } {
  const out: { html?: Node; text?: Node } = {};
  const isBody = (l: Node): boolean => {
    const disp = (header(l, 'content-disposition') ?? '').toLowerCase();
    return !disp.startsWith('attachment') && !/filename/.test(disp) && l.params.name === undefined;
  };
  const visit = (n: Node): void => {
    if (n.children) {
      if (!['multipart/alternative', 'multipart/mixed', 'multipart/related'].includes(n.type)) return;
      n.children.forEach(visit);
      return;
    }
    if (!isBody(n)) return;
    if (n.type === 'text/html' && !out.html) out.html = n;
    if (n.type === 'text/plain' && !out.text) out.text = n;
  };
  visit(root);
  return out;
}

/** Splits `after` into (prefix, inserted, suffix) such that before = prefix + suffix. */
export function insertionOf(before: string, after: string): { at: number; inserted: string } | undefined {
  let p = 0;
  const max = Math.min(before.length, after.length);
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < before.length - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  if (p + s !== before.length) return undefined; // something other than one insertion changed
  return { at: p, inserted: after.slice(p, after.length - s) };
}

/** Where our HTML block went, and proof that nothing else changed. */
export function htmlInsertion(before: string, after: string): { at: number; inserted: string } | undefined {
  const i = after.indexOf('<div id="sigops-signature"');
  if (i < 0) return undefined;
  const tailLen = before.length - i;
  const j = after.length - tailLen;
  if (after.slice(0, i) !== before.slice(0, i) || after.slice(j) !== before.slice(i)) return undefined;
  return { at: i, inserted: after.slice(i, j) };
}

/** Lines of raw encoded body, for line-length checks. */
export function rawLines(n: Node): string[] {
  return n.bodyRaw.toString('latin1').split(/\r?\n/);
}

/** Where our text block went (it starts with the "-- " delimiter), and proof nothing else changed. */
export function textInsertion(before: string, after: string, firstLine?: string): { at: number; inserted: string } | undefined {
  const delta = after.length - before.length;
  for (let k = after.indexOf('-- '); k >= 0; k = after.indexOf('-- ', k + 1)) {
    if (firstLine !== undefined && !after.slice(k).replace(/^-- \r?\n/, '').startsWith(firstLine)) continue;
    for (const start of [k, k - 1, k - 2]) {
      if (start < 0) continue;
      if (after.slice(0, start) === before.slice(0, start) && after.slice(start + delta) === before.slice(start)) {
        const inserted = after.slice(start, start + delta);
        if (/^(\r?\n)?-- \r?\n/.test(inserted)) return { at: start, inserted };
      }
    }
  }
  return undefined;
}

function sameShape(a: Node, b: Node): void {
  assert.equal(b.type, a.type, `${a.path}: content type`);
  assert.equal(b.children?.length, a.children?.length, `${a.path}: number of parts`);
  a.children?.forEach((c, i) => sameShape(c, b.children![i]!));
}

function maxLine(n: Node): number {
  return Math.max(0, ...rawLines(n).map((l) => l.length));
}

/**
 * The checks every signed or passed message must pass: the same MIME tree; the top header
 * block unchanged but for X-Sigops-Processed; every part except the two signed text parts
 * byte-identical; the signed parts changed only by one insertion of our block, validly encoded.
 */
export function verifyOutput(input: Buffer, out: Buffer, outcome: SignOutcome): { html?: { at: number; before: string }; text?: { at: number; before: string } } {
  const a = parseMime(input);
  const b = parseMime(out);
  sameShape(a, b);
  const marks = b.headers.filter(([k]) => k === 'x-sigops-processed');
  assert.equal(marks.length, 1, 'exactly one X-Sigops-Processed header');
  const aFields = a.headers.filter(([k]) => k !== 'x-sigops-processed');
  const bFields = b.headers.filter(([k]) => k !== 'x-sigops-processed');
  const single = !a.children;
  const strip = (f: Array<[string, string]>): Array<[string, string]> => (single && outcome.signed ? f.filter(([k]) => k !== 'content-type' && k !== 'content-transfer-encoding') : f);
  assert.deepEqual(strip(bFields), strip(aFields), 'top-level header fields unchanged, in order');
  if (!single || !outcome.signed) {
    const added = b.headerRaw.replace(/(^|\r?\n)X-Sigops-Processed: true(?=\r?\n|$)/, '');
    assert.equal(added, a.headerRaw, 'top-level header bytes unchanged');
  }
  const la = leaves(a);
  const lb = leaves(b);
  const parts = bodyParts(a);
  const result: { html?: { at: number; before: string }; text?: { at: number; before: string } } = {};
  la.forEach((x, i) => {
    const y = lb[i]!;
    const yHeader = y === b ? y.headerRaw.replace(/(^|\r?\n)X-Sigops-Processed: true(?=\r?\n|$)/, '') : y.headerRaw;
    const changed = !x.bodyRaw.equals(y.bodyRaw) || x.headerRaw !== yHeader;
    if (!changed) return;
    assert.ok(outcome.signed, `${x.path} changed although the message was not signed`);
    const kind = x === parts.html ? 'html' : x === parts.text ? 'text' : undefined;
    assert.ok(kind, `${x.path} (${x.type}) changed but it is not a signed text part`);
    const before = decodedText(x);
    const after = decodedText(y);
    const ins = kind === 'html' ? htmlInsertion(before, after) : textInsertion(before, after);
    assert.ok(ins, `${x.path}: the only change is one insertion of our ${kind} block`);
    if (kind === 'html') assert.match(ins.inserted, /^<div id="sigops-signature" data-sigops="1">/);
    result[kind] = { at: ins.at, before };
    const cte = (header(y, 'content-transfer-encoding') ?? '7bit').toLowerCase();
    assert.ok(maxLine(y) <= 998, `${y.path}: lines within 998`);
    if (cte === 'base64') assert.ok(maxLine(y) <= 76, `${y.path}: base64 lines within 76`);
    // a quoted-printable part keeps its encoded lines around the insertion: lines the sender
    // made too long stay as they came, and none we write is longer than 76
    const xCte = (header(x, 'content-transfer-encoding') ?? '7bit').toLowerCase();
    if (cte === 'quoted-printable') {
      const limit = xCte === 'quoted-printable' ? Math.max(76, maxLine(x)) : 76;
      assert.ok(maxLine(y) <= limit, `${y.path}: quoted-printable lines within ${limit}`);
    }
    if (cte === '7bit') assert.ok(!/[\x80-\xff]/.test(y.bodyRaw.toString('latin1')), `${y.path}: 7bit stays 7-bit`);
  });
  return result;
}

// ---------------------------------------------------------------- signature images, HTML twins

/**
 * The output with what signing added around the signed parts taken away again: each
 * multipart/related or multipart/alternative the signer made (its boundary starts with
 * `=_sigops-`) replaced by its first child, and the image parts with the given Content-IDs
 * removed from the related multiparts they were appended to. What is left must pass
 * verifyOutput against the input: the rest of the message went through as it came.
 */
export function withoutAddedStructure(input: Buffer, out: Buffer, contentIds: readonly string[]): Buffer {
  let s = out.toString('latin1');
  const inputHasVersion = /(^|\n)mime-version:/i.test(input.toString('latin1').split(/\r?\n\r?\n/)[0] ?? '');
  for (;;) {
    const m = /(^|\n)(Content-Type: multipart\/(?:related|alternative);[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*?boundary="(=_sigops-[a-z]+-[0-9a-f]+)"\r?\n)/.exec(s);
    if (!m) break;
    const hs = m.index + m[1]!.length;
    const ctEnd = hs + m[2]!.length;
    const boundary = m[3]!;
    const eol = m[2]!.endsWith('\r\n') ? '\r\n' : '\n';
    const open = s.indexOf(`--${boundary}${eol}`, ctEnd);
    const cs = open + boundary.length + 2 + eol.length;
    const ce = s.indexOf(`${eol}--${boundary}`, cs);
    const closeLine = `--${boundary}--${eol}`;
    const closeEnd = s.indexOf(closeLine, ce) + closeLine.length;
    const child = s.slice(cs, ce);
    const headEnd = s.search(/\r?\n\r?\n/);
    if (hs < headEnd) {
      // the top-level header block: our Content-Type (and MIME-Version, if we added it) out, the inner part's fields in
      let before = s.slice(0, hs);
      if (!inputHasVersion) before = before.replace(new RegExp(`MIME-Version: 1\\.0${eol}$`), '');
      const blank = child.indexOf(`${eol}`) === 0 ? 0 : child.indexOf(`${eol}${eol}`) + eol.length;
      const childHeaders = child.slice(0, blank);
      const childBody = child.slice(blank + eol.length);
      const topRest = s.slice(ctEnd, headEnd + eol.length);
      s = before + topRest + childHeaders + eol + childBody;
    } else {
      s = s.slice(0, hs) + child + eol + s.slice(closeEnd);
    }
  }
  for (const id of contentIds) {
    const esc = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    s = s.replace(new RegExp(`(^|\\n)--[^\\r\\n]+\\r?\\nContent-Type: image/[a-z]+; name="[^"]*"\\r?\\nContent-Transfer-Encoding: base64\\r?\\nContent-ID: <${esc}>\\r?\\n[^\\r\\n]+\\r?\\n\\r?\\n[A-Za-z0-9+/=\\r\\n]*?(?=--)`, 'g'), (all, lead: string) => lead);
  }
  return Buffer.from(s, 'latin1');
}

/** Every part of a tree, leaves and multiparts, depth first. */
export function allNodes(n: Node): Node[] {
  return [n, ...(n.children ?? []).flatMap(allNodes)];
}

export function headerOf(n: Node, name: string): string | undefined {
  return header(n, name);
}
