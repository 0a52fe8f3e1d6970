// Decoding, signing and re-encoding of one held text part. Bytes the signature does not need
// to touch stay as they were where the encoding allows: 7bit/8bit parts keep every original
// byte, quoted-printable parts keep every encoded byte around the encoded insertion (unless the
// text itself had to be re-encoded, e.g. into UTF-8), base64 parts are re-encoded whole, which
// keeps their decoded content.
import { isUtf8 } from 'node:buffer';
import type { Placement } from '../model/index.ts';
import type { RenderedBlocks } from '../policy/types.ts';
import { codecFor, decodeBase64, decodeQuotedPrintable, encodeBase64Buffer, encodeQuotedPrintable, lineEndingOf, spliceQuotedPrintable, utf8Codec, type Codec, type LineEnding } from './encoding.ts';
import { setHeaderField, withCharset, type ContentType } from './headers.ts';
import { htmlCarriesSignature, placeInHtml, placeInText, textCarriesSignature, type Spot } from './placement/index.ts';

export type TextKind = 'plain' | 'html';

export interface HeldPart {
  readonly kind: TextKind;
  /** The part's header block, without the blank line that ends it. */
  readonly header: Buffer;
  /** The blank line (CRLF or LF), or empty when the header block ran into EOF. */
  readonly separator: Buffer;
  readonly contentType: ContentType;
  readonly contentTypeRaw: string;
  readonly transferEncoding: string;
  /** The encoded body as it came in. */
  readonly body: Buffer;
  /** True when the line break ending `body` belongs to the following boundary line. */
  readonly boundaryFollows: boolean;
  /** Subtype of the multipart the part is in (`mixed`, `alternative`, `related`); absent: the message is this part. */
  readonly parent?: string;
}

export type Analysis =
  | { ok: false; detail: string; pgp?: boolean }
  | {
      ok: true;
      part: HeldPart;
      codec: Codec;
      text: string;
      decoded: Buffer;
      content: Buffer; // encoded body without the line break owned by the boundary
      tail: Buffer;
      spot: Spot;
      alreadySigned: boolean;
    };

const KNOWN_CTE = new Set(['7bit', '8bit', 'binary', 'quoted-printable', 'base64']);

export function analyzePart(part: HeldPart, placement: Placement, blocks: RenderedBlocks): Analysis {
  const cte = part.transferEncoding;
  if (!KNOWN_CTE.has(cte)) return { ok: false, detail: `unknown transfer encoding ${cte}` };
  const codec = codecFor(part.contentType.params.get('charset'));
  if (!codec) return { ok: false, detail: `unknown charset ${part.contentType.params.get('charset') ?? ''}` };
  let content: Buffer = part.body;
  let tail: Buffer = Buffer.alloc(0);
  if (part.boundaryFollows) {
    const n = content.length;
    const cut = n >= 2 && content[n - 2] === 13 && content[n - 1] === 10 ? 2 : n >= 1 && content[n - 1] === 10 ? 1 : 0;
    tail = content.subarray(n - cut);
    content = content.subarray(0, n - cut);
  }
  const decoded = cte === 'base64' ? decodeBase64(content) : cte === 'quoted-printable' ? decodeQuotedPrintable(content) : content;
  // base64 that does not decode cleanly (stray characters, padding in the middle) would not
  // survive a decode/re-encode: leave such a part alone
  if (cte === 'base64' && decoded.toString('base64') !== content.toString('latin1').replace(/[\r\n\t ]+/g, '')) {
    return { ok: false, detail: 'base64 body does not decode cleanly' };
  }
  const text = codec.decode(decoded);
  if (text.includes('-----BEGIN PGP ')) return { ok: false, detail: 'inline PGP', pgp: true };
  const spot = part.kind === 'html' ? placeInHtml(text, placement) : placeInText(text, placement);
  const newest = text.slice(0, spot.newestEnd);
  const alreadySigned = part.kind === 'html' ? htmlCarriesSignature(newest) : textCarriesSignature(newest, blocks.text);
  return { ok: true, part, codec, text, decoded, content, tail, spot, alreadySigned };
}

/** Non-ASCII in what we insert into HTML becomes character references: valid in any charset, and 7-bit safe. */
function asciiHtml(s: string): string {
  return s.replace(/[^\x00-\x7f]/gu, (c) => `&#${c.codePointAt(0)!};`);
}

/** Folds lines of inserted HTML longer than `max` at spaces (or after a tag) so 7bit/8bit stays within RFC 5322. */
function foldHtml(s: string, eol: string, max = 900): string {
  return s
    .split(/\r?\n/)
    .map((line) => {
      let out = '';
      let rest = line;
      while (rest.length > max) {
        let cut = rest.lastIndexOf(' ', max);
        if (cut <= 0) cut = rest.lastIndexOf('>', max - 1) + 1;
        if (cut <= 0) break;
        out += rest.slice(0, cut) + eol;
        rest = rest[cut] === ' ' ? rest.slice(cut + 1) : rest.slice(cut);
      }
      return out + rest;
    })
    .join(eol);
}

// The blocks of a decision are one object for every message of that sender that day (the
// policy caches decisions): what is derived from them alone is made once per object.
const derived = new WeakMap<RenderedBlocks, Map<string, string | string[] | Buffer>>();
function onceFor<T extends string | string[] | Buffer>(blocks: RenderedBlocks, key: string, make: () => T): T {
  let m = derived.get(blocks);
  if (!m) derived.set(blocks, (m = new Map()));
  let v = m.get(key) as T | undefined;
  if (v === undefined) m.set(key, (v = make()));
  return v;
}

/**
 * A rendered block as it may go into a message: line breaks as LF, and no other control
 * character but tab. Directory values can carry anything (NUL, escape sequences, bare CR); none
 * has a place in mail, and a NUL or bare CR in front of a dot is what SMTP smuggling is made of.
 */
function cleanBlock(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}

export function htmlInsertion(blocks: RenderedBlocks, eol: string): string {
  return onceFor(blocks, `html${eol}`, () => foldHtml(`<div id="sigops-signature" data-sigops="1">${eol}${asciiHtml(cleanBlock(blocks.html))}${eol}</div>${eol}`, eol));
}

/**
 * The insertion with every line that a MIME parser would take for one of the message's
 * boundaries (`--boundary`, closing or not) indented by one space: such a line, from a
 * directory value or the sender's own display name, would otherwise end the part and open
 * another. Indenting is invisible in HTML and harmless in text.
 */
export function guardBoundaries(insertion: string, boundaries: readonly string[] | undefined): string {
  if (!boundaries || boundaries.length === 0) return insertion;
  return insertion.replace(/(^|\n)--([^\r\n]*)/g, (line, lead: string, rest: string) => (boundaries.some((b) => b !== '' && rest.startsWith(b)) ? `${lead} --${rest}` : line));
}

/** The text block's lines: no trailing spaces, and space-stuffed for format=flowed. */
function textLines(blocks: RenderedBlocks, flowed: boolean): string[] {
  return onceFor(blocks, flowed ? 'lines-flowed' : 'lines', () =>
    cleanBlock(blocks.text).replace(/\n+$/, '').split('\n').map((l) => {
      let line = l.replace(/[ \t]+$/, ''); // no trailing spaces: in format=flowed they would join lines
      if (flowed && (line.startsWith(' ') || line.startsWith('>') || line.startsWith('From '))) line = ' ' + line; // space-stuffing
      return line;
    }),
  );
}

export function textInsertion(text: string, index: number, blocks: RenderedBlocks, eol: string, flowed: boolean, reply: boolean): string {
  const lines = textLines(blocks, flowed);
  const before = text.slice(0, index);
  // a flowed line (trailing space) right above would join our first line: end its paragraph
  const lead = (before.length > 0 && !before.endsWith('\n')) || (flowed && / \r?\n$/.test(before)) ? eol : '';
  const trail = reply && index < text.length ? eol : '';
  return `${lead}-- ${eol}${lines.join(eol)}${eol}${trail}`;
}

/** Byte length of text[0, index) re-encoded, when the decoded bytes start with exactly that; else -1. */
function samePrefixLength(codec: Codec, text: string, index: number, decoded: Buffer): number {
  // valid UTF-8 decodes and re-encodes to the same bytes: only the length is needed (unless the
  // index falls inside a surrogate pair, which the general comparison below rejects)
  if (codec === utf8Codec && isUtf8(decoded)) {
    const hi = index > 0 ? text.charCodeAt(index - 1) : 0;
    if (hi < 0xd800 || hi > 0xdbff) return Buffer.byteLength(text.slice(0, index), 'utf8');
  }
  const prefix = codec.encode(text.slice(0, index));
  return decoded.subarray(0, prefix.length).equals(prefix) ? prefix.length : -1;
}

export interface Rewritten {
  header: Buffer;
  body: Buffer;
  /** What changed besides the body (for the outcome detail). */
  notes: string[];
  /** The HTML twin of a plain-text part (`plainText: html`): header block, blank line, body. */
  twin?: Buffer[];
}

function maxLineLength(b: Buffer): number {
  let max = 0;
  let start = 0;
  for (;;) {
    const nl = b.indexOf(10, start);
    const end = nl < 0 ? b.length : nl;
    if (end - start > max) max = end - start;
    if (nl < 0) return max;
    start = nl + 1;
  }
}

const HIGH = /[\x80-\xff]/;
function hasHighBytes(b: Buffer): boolean {
  return HIGH.test(b.toString('latin1'));
}

/**
 * Inserts the blocks into an analysed part and re-encodes it. Returns a failure detail when
 * the part cannot carry them safely (it then goes out unchanged).
 */
export function rewritePart(
  a: Extract<Analysis, { ok: true }>,
  blocks: RenderedBlocks,
  placement: Placement,
  messageEol: LineEnding,
  boundaries?: readonly string[],
): Rewritten | string {
  const { part, codec, text, decoded, spot } = a;
  const rawEol = lineEndingOf(part.header.length > 0 ? part.header : a.content, messageEol);
  const textEol = lineEndingOf(text, rawEol);
  const flowed = part.kind === 'plain' && (part.contentType.params.get('format') ?? '').toLowerCase() === 'flowed';
  const unguarded =
    part.kind === 'html'
      ? htmlInsertion(blocks, textEol)
      : textInsertion(text, spot.index, blocks, textEol, flowed, placement === 'reply' && spot.marker !== 'bottom');
  const insertion = guardBoundaries(unguarded, boundaries);
  const notes: string[] = [];
  let charset: string | undefined;
  let insertedBytes: Buffer;
  // the new decoded body, either as the original bytes with the insertion at `spliceAt` (so an
  // encoded body can be spliced rather than re-encoded) or whole, when the text was re-encoded
  let spliceAt: number | undefined;
  let whole: Buffer | undefined;
  if (codec.canEncode(insertion)) {
    insertedBytes = codec.encode(insertion);
    // a single-byte codec (us-ascii read byte-transparently, latin1) maps string index to byte
    // offset one to one: no need to encode (and compare) a copy of everything before the spot
    const prefixLength = codec.singleByte ? spot.index : samePrefixLength(codec, text, spot.index, decoded);
    if (prefixLength >= 0) {
      spliceAt = prefixLength;
    } else if (codec.decode(codec.encode(text)) === text) {
      whole = codec.encode(text.slice(0, spot.index) + insertion + text.slice(spot.index));
      notes.push('re-encoded text');
    } else {
      return `charset ${codec.name} does not round-trip`;
    }
  } else {
    // the charset cannot carry the signature: move the part to UTF-8 if that loses nothing
    if (codec.name === 'us-ascii' && isUtf8(decoded)) {
      // ASCII, or undeclared 8-bit text that is valid UTF-8: the bytes stay, only the label changes
      // (us-ascii is read byte for byte, so the string index is the byte offset)
      insertedBytes = utf8Codec.encode(insertion);
      spliceAt = spot.index;
    } else {
      const lossless = codec.name !== 'us-ascii' && codec.decode(codec.encode(text)) === text;
      if (!lossless) return `charset ${codec.name} cannot carry the signature`;
      whole = utf8Codec.encode(text.slice(0, spot.index) + insertion + text.slice(spot.index));
      insertedBytes = whole;
    }
    charset = 'utf-8';
    notes.push('charset changed to utf-8');
  }
  const newDecoded = (): Buffer => {
    whole ??= Buffer.concat([decoded.subarray(0, spliceAt), insertedBytes, decoded.subarray(spliceAt)]);
    return whole;
  };

  let cte = part.transferEncoding;
  let encoded: Buffer;
  if (cte === '7bit' || cte === '8bit') {
    // a line over RFC 5322's 998 (ours, or one the sender already broke the rule with) needs QP
    const needsQp = (cte === '7bit' && hasHighBytes(insertedBytes)) || maxLineLength(newDecoded()) > 998;
    if (needsQp) {
      cte = 'quoted-printable';
      notes.push(`transfer encoding ${part.transferEncoding} -> quoted-printable`);
    }
  }
  if (cte === 'base64') encoded = encodeBase64Buffer(newDecoded(), rawEol);
  else if (cte === 'quoted-printable') {
    // a quoted-printable part keeps its encoded bytes; only the insertion is encoded
    const spliced = part.transferEncoding === 'quoted-printable' && spliceAt !== undefined && whole === undefined
      ? spliceQuotedPrintable(a.content, spliceAt, insertedBytes, rawEol, part.kind === 'html' && insertion === unguarded
          // the HTML block (the larger one) encodes the same way for every message of the
          // decision; it is fixed by the blocks and textEol, so those make the key (unless a
          // line had to be kept from reading as this message's boundary)
          ? (b) => onceFor(blocks, `qp\u0000${codec.name}\u0000${charset ?? ''}\u0000${rawEol}\u0000${textEol}`, () => encodeQuotedPrintable(b, rawEol))
          : undefined,
        )
      : undefined;
    encoded = spliced ?? encodeQuotedPrintable(newDecoded(), rawEol);
  } else encoded = newDecoded();
  // base64 output already ends with a line break; don't double it before the boundary
  let tail = a.tail;
  if (cte === 'base64' && tail.length > 0) tail = Buffer.alloc(0);
  if (cte === 'base64' && !part.boundaryFollows && encoded.length > 0) {
    // single-part message: keep whatever the original ended with
    const endedWithEol = a.content.length > 0 && a.content[a.content.length - 1] === 10;
    if (!endedWithEol) encoded = encoded.subarray(0, encoded.length - Buffer.byteLength(rawEol));
  }

  let header = part.header;
  if (charset) header = setHeaderField(header, 'Content-Type', withCharset(part.contentTypeRaw, charset), rawEol);
  if (cte !== part.transferEncoding) header = setHeaderField(header, 'Content-Transfer-Encoding', cte, rawEol);
  return { header, body: tail.length > 0 ? Buffer.concat([encoded, tail]) : encoded, notes };
}
