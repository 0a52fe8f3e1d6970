// New MIME structure around a signed part: the signature's images as multipart/related parts
// next to the HTML (RFC 2387), and the HTML twin of a plain-text-only message as a
// multipart/alternative. Only boundary lines and headers are written around the part's bytes:
// nothing is decoded or copied but the part itself, which the engine holds anyway.
import { randomBytes } from 'node:crypto';
import type { EmbeddedImage, RenderedBlocks } from '../policy/types.ts';
import { encodeBase64Buffer, encodeQuotedPrintable, type LineEnding } from './encoding.ts';
import { parseHeaderFields } from './headers.ts';
import { guardBoundaries, htmlInsertion } from './rewrite.ts';

const LF = 10;

/** A boundary no line of the message can already hold (random, and with a character base64 never writes). */
export function newBoundary(kind: 'rel' | 'alt'): string {
  return `=_sigops-${kind}-${randomBytes(12).toString('hex')}`;
}

// one encoding per image and line ending: the images come from the compiled config and live as long as it
const encodedParts = new WeakMap<EmbeddedImage, Map<string, Buffer>>();

/** The header block, blank line and base64 body (lines of 76, ending with `eol`) of one image part. */
export function imagePart(image: EmbeddedImage, eol: LineEnding): Buffer {
  let m = encodedParts.get(image);
  if (!m) encodedParts.set(image, (m = new Map()));
  let b = m.get(eol);
  if (!b) {
    const name = image.name.replace(/["\\\r\n]/g, '_');
    const head =
      `Content-Type: ${image.mime}; name="${name}"${eol}` +
      `Content-Transfer-Encoding: base64${eol}` +
      `Content-ID: <${image.contentId}>${eol}` +
      `Content-Disposition: inline; filename="${name}"${eol}${eol}`;
    b = Buffer.concat([Buffer.from(head, 'latin1'), encodeBase64Buffer(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), eol)]);
    m.set(eol, b);
  }
  return b;
}

/** The images not already carried by the message (by Content-ID, brackets and case ignored). */
export function missingImages(images: readonly EmbeddedImage[], present: ReadonlySet<string>): EmbeddedImage[] {
  return images.filter((i) => !present.has(i.contentId.toLowerCase()));
}

/** `<id>` of a Content-ID field, as missingImages compares it. */
export function contentIdKey(value: string): string {
  return value.trim().replace(/^<|>$/g, '').trim().toLowerCase();
}

/** `--boundary` + image part, for each image: what goes in front of a related multipart's closing line. */
export function imageParts(images: readonly EmbeddedImage[], boundary: string, eol: LineEnding): Buffer[] {
  const out: Buffer[] = [];
  for (const image of images) out.push(Buffer.from(`--${boundary}${eol}`, 'latin1'), imagePart(image, eol));
  return out;
}

function endsWithLf(pieces: readonly Buffer[]): boolean {
  for (let i = pieces.length - 1; i >= 0; i--) {
    const p = pieces[i]!;
    if (p.length > 0) return p[p.length - 1] === LF;
  }
  return false;
}

/**
 * The body of a multipart: each child (its header block, blank line and body) after a boundary
 * line, then the closing line and a line break (what follows is the parent's next boundary).
 */
export function multipartBody(boundary: string, children: readonly (readonly Buffer[])[], eol: LineEnding): Buffer[] {
  const out: Buffer[] = [];
  const line = Buffer.from(`--${boundary}${eol}`, 'latin1');
  for (const child of children) {
    out.push(line, ...child);
    // a child's last line break is the delimiter's (RFC 2046): one must be there
    if (!endsWithLf(child)) out.push(Buffer.from(eol, 'latin1'));
  }
  out.push(Buffer.from(`--${boundary}--${eol}`, 'latin1'));
  return out;
}

/** multipart/related holding an HTML part (header block, blank line, body) and the images. */
export function relatedAround(htmlPart: readonly Buffer[], images: readonly EmbeddedImage[], eol: LineEnding): { contentType: string; body: Buffer[] } {
  const boundary = newBoundary('rel');
  return {
    contentType: `multipart/related; type="text/html";${eol} boundary="${boundary}"`,
    body: multipartBody(boundary, [htmlPart, ...images.map((i) => [imagePart(i, eol)])], eol),
  };
}

/** multipart/alternative of the plain part and its HTML twin (either as pieces). */
export function alternativeOf(plainPart: readonly Buffer[], htmlPart: readonly Buffer[], eol: LineEnding): { contentType: string; body: Buffer[] } {
  const boundary = newBoundary('alt');
  return { contentType: `multipart/alternative;${eol} boundary="${boundary}"`, body: multipartBody(boundary, [plainPart, htmlPart], eol) };
}

/**
 * A header block split in two: the Content-* fields (which describe the body, and go with it
 * into the new inner part) and the rest (which stays on the outside).
 */
export function splitContentFields(block: Buffer): { content: Buffer; rest: Buffer } {
  const content: Buffer[] = [];
  const rest: Buffer[] = [];
  let pos = 0;
  for (const f of parseHeaderFields(block)) {
    if (f.start > pos) rest.push(block.subarray(pos, f.start)); // anything between fields stays outside
    (f.name.startsWith('content-') ? content : rest).push(block.subarray(f.start, f.end));
    pos = f.end;
  }
  if (pos < block.length) rest.push(block.subarray(pos));
  return { content: Buffer.concat(content), rest: Buffer.concat(rest) };
}

/** A top-level header block that now announces a multipart: its own Content-* fields replaced. */
export function topHeaderFor(rest: Buffer, contentType: string, eol: LineEnding): Buffer {
  const needsEol = rest.length > 0 && rest[rest.length - 1] !== LF;
  const hasVersion = parseHeaderFields(rest).some((f) => f.name === 'mime-version');
  return Buffer.concat([rest, Buffer.from(`${needsEol ? eol : ''}${hasVersion ? '' : `MIME-Version: 1.0${eol}`}Content-Type: ${contentType}${eol}`, 'latin1')]);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/**
 * The HTML twin of a plain-text body: the text escaped (white space and line breaks kept) with
 * the HTML block at `index`, where the text block went. A complete part: header block, blank
 * line, quoted-printable UTF-8 body.
 */
export function htmlTwin(text: string, index: number, blocks: RenderedBlocks, eol: LineEnding, boundaries: readonly string[] | undefined): Buffer[] {
  const pre = (s: string): string => (s === '' ? '' : `<div style="white-space: pre-wrap; font-family: inherit">${escapeHtml(s).replace(/\r\n?|\n/g, eol)}</div>${eol}`);
  const html =
    `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${eol}` +
    pre(text.slice(0, index)) +
    htmlInsertion(blocks, eol) +
    pre(text.slice(index)) +
    `</body></html>${eol}`;
  const body = encodeQuotedPrintable(Buffer.from(guardBoundaries(html, boundaries), 'utf8'), eol);
  const head = `Content-Type: text/html; charset=utf-8${eol}Content-Transfer-Encoding: quoted-printable${eol}${eol}`;
  return [Buffer.from(head, 'latin1'), body];
}
