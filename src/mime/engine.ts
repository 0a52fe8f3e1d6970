// The streaming walker. Bytes flow through as they arrive; only the first text/plain and the
// first text/html body part (and the few boundary/header lines between them) are held, up to a
// limit, so they can be signed together. As soon as anything else begins (an attachment, an
// inline image, a nested message) the held parts are settled and written, and the rest of the
// message streams through untouched without being looked at again.
import { parseContentType, parseHeaderFields, parseStructured, type ContentType, type HeaderBlock } from './headers.ts';
import type { HeldPart, TextKind } from './rewrite.ts';
import type { LineEnding } from './encoding.ts';
import { signPartsOrPass, type PartSigner, type PartsResult, type SignPlan } from './parts.ts';
import { alternativeOf, contentIdKey, imageParts, missingImages, relatedAround, splitContentFields, topHeaderFor } from './related.ts';
import type { Rewritten } from './rewrite.ts';
import type { PassReason, SignOutcome } from './types.ts';

const LF = 10;
const CR = 13;
const DASH = 45;
const EMPTY: Buffer = Buffer.alloc(0);
const NL_DASH_DASH = Buffer.from('\n--', 'latin1');
/** A boundary line longer than this is not one (RFC 2046 allows 70 characters; we are generous). */
const MAX_BOUNDARY_LINE = 400;
const MAX_PART_HEADER = 64 * 1024;
/** Multiparts whose children may carry the message text. */
const WALKED = new Set(['alternative', 'mixed', 'related']);

export interface Limits {
  maxTextBytes: number;
  maxHeaderBytes: number;
  maxDepth: number;
}

interface Frame {
  boundary: Buffer;
  subtype: string;
}

interface Capture {
  kind: TextKind;
  top: boolean;
  header: Buffer;
  separator: Buffer;
  ct: ContentType;
  ctRaw: string;
  cte: string;
  chunks: Buffer[];
  len: number;
  /** Subtype of the enclosing multipart (absent at top level). */
  parent?: string;
  /** Stack index of the nearest enclosing multipart/related, or -1. */
  relatedDepth: number;
}

/** An enclosing multipart/related that gains the signature's images before its closing line. */
interface Append {
  depth: number;
  boundary: string;
  /** Resolves once the held parts are written; true when the HTML part was signed. */
  htmlSigned: () => boolean;
  ready?: Promise<unknown>;
}

type Segment = { raw: Buffer } | { part: HeldPart };

/** A captured text part, complete: its body joined once. */
function heldPart(cap: Capture, boundaryFollows: boolean): HeldPart {
  return {
    kind: cap.kind,
    header: cap.header,
    separator: cap.separator,
    contentType: cap.ct,
    contentTypeRaw: cap.ctRaw,
    transferEncoding: cap.cte,
    body: cap.chunks.length === 1 ? cap.chunks[0]! : Buffer.concat(cap.chunks),
    boundaryFollows,
    ...(cap.parent !== undefined ? { parent: cap.parent } : {}),
  };
}

type State = 'pass' | 'body' | 'header' | 'capture' | 'single';

/**
 * A piece of output: bytes, or the bytes of held parts being signed elsewhere (a worker
 * thread), written in their place once ready. Such a promise never rejects.
 */
export type Piece = Buffer | Promise<readonly Buffer[]>;

/** Why the whole message must pass, judged from a Content-Type (top level or nested). */
export function structuralReason(ct: ContentType, top: boolean, dispositionFilename?: string): PassReason | undefined {
  const mime = ct.mime;
  if (mime === 'text/calendar' || mime === 'application/ics') return 'calendar';
  if (mime === 'application/ms-tnef' || mime === 'application/vnd.ms-tnef') return 'tnef';
  if ((dispositionFilename ?? ct.params.get('name') ?? '').toLowerCase() === 'winmail.dat') return 'tnef';
  if (
    mime === 'multipart/report' ||
    mime === 'message/delivery-status' ||
    mime === 'message/global-delivery-status' ||
    mime === 'message/disposition-notification' ||
    mime === 'message/global-disposition-notification' ||
    mime === 'message/feedback-report'
  ) {
    return 'report';
  }
  if (!top) return undefined;
  const protocol = (ct.params.get('protocol') ?? '').toLowerCase();
  if (mime === 'multipart/signed' || mime === 'multipart/encrypted') return protocol.includes('pgp') ? 'pgp' : 'smime';
  if (/^application\/(x-)?pkcs7-(mime|signature)$/.test(mime)) return 'smime';
  if (mime === 'application/pgp-encrypted' || mime === 'application/pgp-signature') return 'pgp';
  return undefined;
}

/** Which kind of body text a part is, if it may carry the signature. */
function textKind(ct: ContentType, dispositionRaw: string | undefined): TextKind | undefined {
  if (ct.type !== 'text' || (ct.subtype !== 'plain' && ct.subtype !== 'html')) return undefined;
  const disp = parseStructured(dispositionRaw ?? 'inline');
  if (disp.value === 'attachment') return undefined;
  if (disp.params.has('filename') || ct.params.has('name')) return undefined; // a file, not the body
  return ct.subtype === 'plain' ? 'plain' : 'html';
}


/** Why held parts that were not rewritten passed unchanged. */
function passOutcome(r: Exclude<PartsResult, { kind: 'rewritten' }>): SignOutcome {
  switch (r.kind) {
    case 'pgp':
      return { signed: false, reason: 'pgp', detail: 'inline PGP' };
    case 'already-signed':
      return { signed: false, reason: 'already-signed' };
    case 'gave-up':
      return { signed: false, reason: 'too-large', detail: r.detail };
    case 'failed':
      return { signed: false, reason: 'sign-failed', detail: r.detail };
  }
}

export class Walker {
  /** Output produced so far and not yet handed out. */
  out: Piece[] = [];
  outcome: SignOutcome | undefined;
  private state: State = 'pass';
  private stack: Frame[] = [];
  private carry: Buffer = EMPTY;
  private atLineStart = true;
  private held: Segment[] | null = null;
  private heldBytes = 0;
  private settled = false;
  private seen = { plain: false, html: false };
  private hdr: Buffer[] = [];
  private hdrLen = 0;
  private cap: Capture | null = null;
  /** Every boundary of a walked multipart so far: a signature line must never read as one. */
  private readonly boundaries: string[] = [];
  /** Content-IDs of the parts seen so far: an image the message already carries is not added again. */
  private readonly contentIds = new Set<string>();
  /** Stack index of the related multipart around the held HTML part (-1: none). */
  private heldRelated = -1;
  private append: Append | undefined;
  private htmlSigned = false;

  constructor(
    private readonly plan: SignPlan,
    private readonly limits: Limits,
    private readonly eol: LineEnding,
    private readonly signer?: PartSigner,
  ) {}

  /** The top-level header block as it goes out: unchanged, plus X-Sigops-Processed at its end. */
  headOut(block: Buffer, separator: Buffer): Buffer {
    const needsEol = block.length > 0 && block[block.length - 1] !== LF;
    return Buffer.concat([block, Buffer.from(`${needsEol ? this.eol : ''}X-Sigops-Processed: true${this.eol}`, 'latin1'), separator]);
  }

  /** Starts walking a body whose top-level header block says it can be signed. */
  startBody(headers: HeaderBlock, block: Buffer, separator: Buffer): void {
    const ctRaw = headers.get('content-type');
    const ct = parseContentType(ctRaw);
    if (ct.type === 'multipart') {
      const boundary = ct.params.get('boundary');
      if (!boundary) return this.passWhole(block, separator, 'unparseable', 'multipart without boundary');
      if (!WALKED.has(ct.subtype)) return this.passWhole(block, separator, 'no-text-part', `multipart/${ct.subtype}`);
      this.out.push(this.headOut(block, separator));
      this.stack.push({ boundary: Buffer.from(boundary, 'utf8'), subtype: ct.subtype });
      this.boundaries.push(boundary);
      this.state = 'body';
      this.atLineStart = true;
      return;
    }
    const kind = textKind(ct, headers.get('content-disposition'));
    if (!kind) return this.passWhole(block, separator, 'no-text-part', ct.mime);
    this.cap = {
      kind,
      top: true,
      header: block,
      separator,
      ct,
      ctRaw: ctRaw ?? 'text/plain',
      cte: (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase(),
      chunks: [],
      len: 0,
      relatedDepth: -1,
    };
    this.state = 'single';
  }

  passWhole(block: Buffer, separator: Buffer, reason: PassReason, detail?: string): void {
    this.out.push(this.headOut(block, separator));
    this.state = 'pass';
    this.outcome = detail === undefined ? { signed: false, reason } : { signed: false, reason, detail };
  }

  push(chunk: Buffer): void {
    if (this.state === 'pass') {
      if (chunk.length > 0) this.out.push(chunk);
      return;
    }
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    this.process(data, false);
  }

  end(): void {
    const data = this.carry;
    this.carry = EMPTY;
    if (data.length > 0 && this.state !== 'pass') this.process(data, true);
    else if (data.length > 0) this.emit(data);
    this.finish();
  }

  // ------------------------------------------------------------ scanning

  private process(data: Buffer, eof: boolean): void {
    let pos = 0;
    while (pos < data.length) {
      switch (this.state) {
        case 'pass':
          this.emit(data.subarray(pos));
          pos = data.length;
          break;
        case 'single':
          this.addCapture(data.subarray(pos));
          pos = data.length;
          break;
        case 'header':
          pos = this.headerLines(data, pos, eof);
          break;
        case 'body':
        case 'capture': {
          const r = this.findBoundary(data, pos, eof);
          if (r.found === false) {
            this.content(data.subarray(pos, r.safeEnd));
            const rest = data.subarray(r.safeEnd);
            if ((this.state as State) === 'pass') this.emit(rest);
            else if (rest.length > 0) {
              this.carry = rest; // a possible boundary line, so it starts a line
              this.atLineStart = true;
            } else if (r.safeEnd > pos) {
              this.atLineStart = data[r.safeEnd - 1] === LF;
            }
            pos = data.length;
            break;
          }
          this.content(data.subarray(pos, r.ls));
          if ((this.state as State) === 'pass') {
            this.emit(data.subarray(r.ls));
            pos = data.length;
            break;
          }
          this.onBoundary(data.subarray(r.ls, r.le), r.depth, r.close);
          pos = r.le;
          this.atLineStart = true;
          break;
        }
      }
    }
  }

  /** Finds the next boundary line of any open multipart, or how much of `data` is certainly content. */
  private findBoundary(
    data: Buffer,
    pos: number,
    eof: boolean,
  ): { found: true; ls: number; le: number; depth: number; close: boolean } | { found: false; safeEnd: number } {
    let i = pos;
    let checkStart = this.atLineStart;
    for (;;) {
      let ls: number;
      if (checkStart) {
        checkStart = false;
        ls = pos;
        if (data.length - ls < 2) {
          if (eof || data[ls] !== DASH) break;
          return { found: false, safeEnd: ls };
        }
        if (data[ls] !== DASH || data[ls + 1] !== DASH) continue;
      } else {
        const k = data.indexOf(NL_DASH_DASH, i);
        if (k < 0) break;
        ls = k + 1;
      }
      const nl = data.indexOf(LF, ls);
      let le: number;
      let contentEnd: number;
      if ((nl >= 0 && nl - ls > MAX_BOUNDARY_LINE) || (nl < 0 && data.length - ls > MAX_BOUNDARY_LINE)) {
        i = ls + 2; // too long to be a boundary line
        continue;
      }
      if (nl < 0) {
        if (!eof) return { found: false, safeEnd: ls };
        le = data.length;
        contentEnd = data.length;
      } else {
        le = nl + 1;
        contentEnd = nl;
      }
      if (contentEnd > ls && data[contentEnd - 1] === CR) contentEnd--;
      const m = this.matchBoundary(data, ls + 2, contentEnd);
      if (m) return { found: true, ls, le, depth: m.depth, close: m.close };
      i = ls + 2;
    }
    if (!eof) {
      const n = data.length;
      // keep a line start that may turn out to be "--boundary" once more bytes arrive
      if (n - pos >= 2 && data[n - 2] === LF && data[n - 1] === DASH) return { found: false, safeEnd: n - 1 };
    }
    return { found: false, safeEnd: data.length };
  }

  private matchBoundary(data: Buffer, s: number, e: number): { depth: number; close: boolean } | undefined {
    for (let d = this.stack.length - 1; d >= 0; d--) {
      const b = this.stack[d]!.boundary;
      if (e - s < b.length || data.compare(b, 0, b.length, s, s + b.length) !== 0) continue;
      let k = s + b.length;
      let close = false;
      if (k + 2 <= e && data[k] === DASH && data[k + 1] === DASH) {
        close = true;
        k += 2;
      }
      while (k < e && (data[k] === 0x20 || data[k] === 0x09)) k++;
      if (k === e) return { depth: d, close };
    }
    return undefined;
  }

  private content(buf: Buffer): void {
    if (buf.length === 0) return;
    if (this.state === 'capture') this.addCapture(buf);
    else this.emit(buf);
  }

  private onBoundary(line: Buffer, depth: number, close: boolean): void {
    if (this.state === 'capture') this.finishCapture(true);
    // the related multipart around the held HTML closes: sign now, its images go before the line
    if (close && this.held && this.heldRelated >= depth) this.settle();
    if (close && this.append && depth <= this.append.depth) {
      if (depth === this.append.depth) this.out.push(this.appendPieces(this.append));
      this.append = undefined;
    }
    this.emit(line);
    if (close) {
      this.stack.length = depth;
      this.state = this.settled && !this.held && !this.append ? 'pass' : 'body';
      if (this.stack.length === 0) {
        // the top-level multipart is complete: what follows is epilogue
        if (this.held) this.settle();
        this.state = 'pass';
        this.outcome ??= { signed: false, reason: 'no-text-part' };
      }
    } else {
      this.stack.length = depth + 1;
      this.state = 'header';
      this.hdr = [];
      this.hdrLen = 0;
    }
  }

  private headerLines(data: Buffer, pos: number, eof: boolean): number {
    let p = pos;
    while (p < data.length) {
      const nl = data.indexOf(LF, p);
      if (nl < 0) {
        const rest = data.subarray(p);
        if (this.hdrLen + rest.length > MAX_PART_HEADER) {
          this.hdrPush(rest);
          this.partHeaderDone(EMPTY, true);
          this.atLineStart = false; // we stopped in the middle of a line
          return data.length;
        }
        if (eof) {
          this.hdrPush(rest);
          return data.length;
        }
        this.carry = rest;
        return data.length;
      }
      const blank = nl === p || (nl === p + 1 && data[p] === CR);
      if (blank) {
        this.partHeaderDone(data.subarray(p, nl + 1), false);
        return nl + 1;
      }
      if (data[p] === DASH && data[p + 1] === DASH) {
        let end = nl;
        if (end > p && data[end - 1] === CR) end--;
        if (this.matchBoundary(data, p + 2, end)) {
          // a part that ends inside its own header block: keep its bytes, let the body scanner see the boundary
          this.partHeaderDone(EMPTY, true);
          this.atLineStart = true;
          return p;
        }
      }
      this.hdrPush(data.subarray(p, nl + 1));
      if (this.hdrLen > MAX_PART_HEADER) {
        this.partHeaderDone(EMPTY, true);
        this.atLineStart = true;
        return nl + 1;
      }
      p = nl + 1;
    }
    return p;
  }

  private hdrPush(b: Buffer): void {
    this.hdr.push(b);
    this.hdrLen += b.length;
  }

  private partHeaderDone(separator: Buffer, opaque: boolean): void {
    const header = this.hdr.length === 1 ? this.hdr[0]! : Buffer.concat(this.hdr);
    this.hdr = [];
    this.hdrLen = 0;
    const raw = separator.length > 0 ? Buffer.concat([header, separator]) : header;
    const parent = this.stack[this.stack.length - 1]!;
    if (!opaque) {
      const fields = parseHeaderFields(header);
      const get = (n: string): string | undefined => fields.find((f) => f.name === n)?.value;
      const ctRaw = get('content-type');
      const ct = parseContentType(ctRaw, parent.subtype === 'digest' ? 'message/rfc822' : 'text/plain');
      const dispRaw = get('content-disposition');
      const cid = get('content-id');
      if (cid !== undefined) this.contentIds.add(contentIdKey(cid));
      const reason = this.settled ? undefined : structuralReason(ct, false, dispRaw ? parseStructured(dispRaw).params.get('filename') : undefined);
      if (reason) {
        this.passUnchanged(reason, `${ct.mime} part`);
        this.emit(raw);
        return;
      }
      if (ct.type === 'multipart') {
        const boundary = ct.params.get('boundary');
        if (boundary && WALKED.has(ct.subtype) && this.stack.length < this.limits.maxDepth) {
          this.emit(raw);
          this.stack.push({ boundary: Buffer.from(boundary, 'utf8'), subtype: ct.subtype });
          this.boundaries.push(boundary);
          this.state = 'body';
          return;
        }
      }
      const kind = textKind(ct, dispRaw);
      if (kind && !this.seen[kind] && !this.settled && WALKED.has(parent.subtype)) {
        if (!this.held) {
          this.held = [];
          this.heldBytes = 0;
        }
        this.cap = {
          kind,
          top: false,
          header,
          separator,
          ct,
          ctRaw: ctRaw ?? 'text/plain',
          cte: (get('content-transfer-encoding') ?? '7bit').toLowerCase(),
          chunks: [],
          len: 0,
          parent: parent.subtype,
          relatedDepth: this.stack.findLastIndex((f) => f.subtype === 'related'),
        };
        if (kind === 'html') this.heldRelated = this.cap.relatedDepth;
        this.state = 'capture';
        return;
      }
    }
    // anything else streams through; text held so far is settled first
    if (this.held) {
      this.settle();
      this.emit(raw);
      // with images to add to an enclosing related multipart, walk on to its closing line
      this.state = this.append ? 'body' : 'pass';
      return;
    }
    this.emit(raw);
    this.state = 'body';
  }

  // ------------------------------------------------------------ holding

  private emit(buf: Buffer): void {
    if (buf.length === 0) return;
    if (this.held) {
      this.held.push({ raw: buf });
      this.heldBytes += buf.length;
      if (this.heldBytes > this.limits.maxTextBytes * 2 + MAX_PART_HEADER) this.tooLarge();
    } else {
      this.out.push(buf);
    }
  }

  private addCapture(buf: Buffer): void {
    const cap = this.cap!;
    cap.chunks.push(buf);
    cap.len += buf.length;
    if (cap.len > this.limits.maxTextBytes) this.tooLarge();
  }

  private finishCapture(boundaryFollows: boolean): void {
    const cap = this.cap!;
    this.cap = null;
    this.seen[cap.kind] = true;
    const part = heldPart(cap, boundaryFollows);
    if (this.held) {
      this.held.push({ part });
      this.heldBytes += part.body.length + part.header.length;
    }
  }

  private captureRaw(cap: Capture): Buffer[] {
    const head = cap.top ? this.headOut(cap.header, cap.separator) : Buffer.concat([cap.header, cap.separator]);
    return [head, ...cap.chunks];
  }

  /** Writes everything held, unchanged, and streams the rest through. */
  private flushUnchanged(): void {
    const held = this.held;
    this.held = null;
    for (const seg of held ?? []) {
      if ('raw' in seg) this.out.push(seg.raw);
      else this.out.push(Buffer.concat([seg.part.header, seg.part.separator]), seg.part.body);
    }
    if (this.cap) {
      this.out.push(...this.captureRaw(this.cap));
      this.cap = null;
    }
    if (this.hdr.length > 0) {
      this.out.push(...this.hdr);
      this.hdr = [];
      this.hdrLen = 0;
    }
    this.state = 'pass';
    this.settled = true;
  }

  private passUnchanged(reason: PassReason, detail?: string): void {
    this.flushUnchanged();
    this.outcome = detail === undefined ? { signed: false, reason } : { signed: false, reason, detail };
  }

  private tooLarge(): void {
    this.passUnchanged('too-large', `over ${this.limits.maxTextBytes} bytes`);
  }

  // ------------------------------------------------------------ signing

  /** Signs the held parts (here, or on the signer when they are large) and writes them out. */
  private settle(): void {
    const held = this.held ?? [];
    this.held = null;
    this.settled = true;
    const related = this.heldRelated;
    this.heldRelated = -1;
    const images = this.plan.blocks.images;
    // the HTML sits in a related multipart already: it gains the images before its closing
    // line (decided before assembling, which then leaves the HTML part as it is)
    const append: Append | undefined =
      related >= 0 && images && images.length > 0 && related < this.stack.length
        ? { depth: related, boundary: this.stack[related]!.boundary.toString('utf8'), htmlSigned: () => this.htmlSigned }
        : undefined;
    this.append = append;
    const pieces = this.signHeld(held, (r) => this.assemble(held, r));
    const ready = pieces.find((p): p is Promise<readonly Buffer[]> => !Buffer.isBuffer(p));
    if (append && ready) append.ready = ready;
    this.out.push(...pieces);
  }

  /** The images (not already in the message) as parts of the related multipart, once the HTML is known signed. */
  private appendPieces(a: Append): Piece {
    const make = (): Buffer[] => {
      if (!a.htmlSigned()) return [];
      try {
        return imageParts(missingImages(this.plan.blocks.images ?? [], this.contentIds), a.boundary, this.eol);
      } catch {
        return []; // the images are a courtesy of the signature: the signed HTML goes out without them
      }
    };
    return a.ready ? a.ready.then(make, make) : Buffer.concat(make());
  }

  private settleSingle(): void {
    const cap = this.cap!;
    this.cap = null;
    const part = heldPart(cap, false);
    this.out.push(...this.signHeld([{ part }], (r) => this.assembleSingle(part, r)));
    this.state = 'pass';
  }

  private signHeld(held: readonly Segment[], assemble: (r: PartsResult) => Buffer[]): Piece[] {
    const parts = held.flatMap((s) => ('part' in s ? [s.part] : []));
    const signer = this.signer;
    const plan: SignPlan = this.boundaries.length > 0 ? { ...this.plan, boundaries: this.boundaries } : this.plan;
    let bytes = 0;
    for (const p of parts) bytes += p.body.length;
    // a signature must never block mail: if inserting it throws, the parts pass unchanged
    if (!signer || bytes < signer.minBytes) return assemble(signPartsOrPass(parts, plan, this.eol));
    // a large part is signed off the event loop; if that fails, it is signed here after all
    return [
      signer.sign(parts, plan, this.eol).then(assemble, () => assemble(signPartsOrPass(parts, plan, this.eol))),
    ];
  }

  private unchanged(held: readonly Segment[]): Buffer[] {
    const out: Buffer[] = [];
    for (const seg of held) {
      if ('raw' in seg) out.push(seg.raw);
      else out.push(Buffer.concat([seg.part.header, seg.part.separator]), seg.part.body);
    }
    return out;
  }

  private assemble(held: readonly Segment[], r: PartsResult): Buffer[] {
    if (r.kind !== 'rewritten') {
      this.outcome = passOutcome(r);
      return this.unchanged(held);
    }
    try {
      return this.assembleRewritten(held, r);
    } catch (err) {
      // a new structure that cannot be written must not block the message: it goes out as it came
      this.htmlSigned = false;
      this.outcome = { signed: false, reason: 'images-failed', detail: `${err instanceof Error ? err.message : String(err)}`.slice(0, 300) };
      return this.unchanged(held);
    }
  }

  /**
   * A rewritten nested part as it goes out: as it is, or with its images wrapped around it in a
   * multipart/related, or (a plain part with an HTML twin) inside a multipart/alternative.
   */
  private nestedPart(p: HeldPart, rw: Rewritten): Buffer[] {
    const images = this.plan.blocks.images ?? [];
    const self = [rw.header, p.separator, rw.body];
    if (p.separator.length === 0) return self;
    const eol = this.eol;
    const sep = Buffer.from(eol, 'latin1');
    if (p.kind === 'html') {
      this.htmlSigned = true;
      if (images.length === 0 || this.append) return self;
      const rel = relatedAround(self, images, eol);
      return [Buffer.from(`Content-Type: ${rel.contentType}${eol}`, 'latin1'), sep, ...rel.body];
    }
    if (!rw.twin) return self;
    const twin = images.length > 0 ? this.relatedPart(rw.twin, eol) : rw.twin;
    const alt = alternativeOf(self, twin, eol);
    return [Buffer.from(`Content-Type: ${alt.contentType}${eol}`, 'latin1'), sep, ...alt.body];
  }

  private relatedPart(html: readonly Buffer[], eol: LineEnding): Buffer[] {
    const rel = relatedAround(html, this.plan.blocks.images ?? [], eol);
    return [Buffer.from(`Content-Type: ${rel.contentType}${eol}${eol}`, 'latin1'), ...rel.body];
  }

  private assembleRewritten(held: readonly Segment[], r: Extract<PartsResult, { kind: 'rewritten' }>): Buffer[] {
    const out: Buffer[] = [];
    const details: string[] = [];
    let signed = 0;
    let i = 0;
    for (const seg of held) {
      if ('raw' in seg) {
        out.push(seg.raw);
        continue;
      }
      const p = seg.part;
      const rw = r.parts[i++]!;
      if (typeof rw === 'string') {
        details.push(`${p.kind}: ${rw}`);
        out.push(Buffer.concat([p.header, p.separator]), p.body);
      } else {
        signed++;
        if (rw.notes.length > 0) details.push(`${p.kind}: ${rw.notes.join(', ')}`);
        out.push(...this.nestedPart(p, rw));
      }
    }
    this.record(signed, details);
    return out;
  }

  private assembleSingle(part: HeldPart, r: PartsResult): Buffer[] {
    const rw = r.kind === 'rewritten' ? r.parts[0]! : undefined;
    if (rw === undefined || typeof rw === 'string') {
      if (r.kind !== 'rewritten') this.outcome = passOutcome(r);
      else this.record(0, [`${part.kind}: ${rw}`]);
      return [this.headOut(part.header, part.separator), part.body];
    }
    try {
      const out = this.singleOut(part, rw);
      this.record(1, rw.notes.length > 0 ? [`${part.kind}: ${rw.notes.join(', ')}`] : []);
      return out;
    } catch (err) {
      this.outcome = { signed: false, reason: 'images-failed', detail: `${err instanceof Error ? err.message : String(err)}`.slice(0, 300) };
      return [this.headOut(part.header, part.separator), part.body];
    }
  }

  /**
   * The message that is one text part, signed: as it is, or become a multipart (HTML and its
   * images in a related; plain text and its HTML twin in an alternative). The Content-* fields
   * move to the inner part, every other header field stays on top.
   */
  private singleOut(part: HeldPart, rw: Rewritten): Buffer[] {
    const images = this.plan.blocks.images ?? [];
    const wrapHtml = part.kind === 'html' && images.length > 0;
    if ((!wrapHtml && !rw.twin) || part.separator.length === 0) return [this.headOut(rw.header, part.separator), rw.body];
    const eol = this.eol;
    const { content, rest } = splitContentFields(rw.header);
    // the body's last line break is its own here (no boundary followed it): one more keeps it
    // from becoming the new boundary's
    const last = rw.body.length > 0 ? rw.body[rw.body.length - 1] : undefined;
    const inner = [content, Buffer.from(eol, 'latin1'), rw.body, ...(last === 10 ? [Buffer.from(eol, 'latin1')] : [])];
    const multi = wrapHtml
      ? relatedAround(inner, images, eol)
      : alternativeOf(inner, images.length > 0 ? this.relatedPart(rw.twin!, eol) : rw.twin!, eol);
    return [this.headOut(topHeaderFor(rest, multi.contentType, eol), part.separator), ...multi.body];
  }

  private record(signed: number, details: string[]): void {
    const detail = details.length > 0 ? details.join('; ') : undefined;
    if (signed > 0) {
      this.outcome = { signed: true, ...(this.plan.rule !== undefined ? { rule: this.plan.rule } : {}), ...(detail ? { detail } : {}) };
    } else {
      this.outcome = { signed: false, reason: 'unparseable', ...(detail ? { detail } : {}) };
    }
  }

  private finish(): void {
    switch (this.state) {
      case 'single':
        this.settleSingle();
        break;
      case 'pass':
        this.outcome ??= { signed: false, reason: 'no-text-part' };
        break;
      default:
        // signed already, walking on only to add images: what went out stays as it is
        if (this.settled && !this.held) break;
        // the input ended inside the multipart structure: nothing held may be trusted
        this.passUnchanged('unparseable', 'truncated MIME: input ended before the closing boundary');
    }
    this.state = 'pass';
  }
}
