// Transfer encodings (quoted-printable, base64) and charsets for the text parts being signed.
// Only text parts ever come here; attachments are never decoded.
import iconv from 'iconv-lite';

const CR = 13;
const LF = 10;

/** A message keeps the line ending it came with: CRLF off the wire, LF in many files. */
export type LineEnding = '\r\n' | '\n';

/** The line ending of the first line break in `buf`, or `fallback` when there is none. */
export function lineEndingOf(buf: Buffer | string, fallback: LineEnding = '\r\n'): LineEnding {
  const nl = buf.indexOf('\n');
  if (nl < 0) return fallback;
  return nl > 0 && (typeof buf === 'string' ? buf[nl - 1] === '\r' : buf[nl - 1] === CR) ? '\r\n' : '\n';
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 2045 §6.7 decoding, forgiving: a broken `=` sequence is kept literally. */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  return out.subarray(0, walkQuotedPrintable(src, out, Infinity).decoded);
}

/**
 * Where, in quoted-printable `src`, the first `decodedLength` decoded bytes end: the offset
 * just after the sequences that decode to them, moved past any soft line breaks that follow
 * (so a cut there starts a new encoded line when it can).
 */
export function quotedPrintableOffset(src: Buffer, decodedLength: number): number {
  // the walk writes what it decodes; here only where it stops matters
  let i = walkQuotedPrintable(src, Buffer.allocUnsafe(Math.min(decodedLength, src.length)), decodedLength).encoded;
  // soft line breaks decode to nothing: the cut goes after them
  const n = src.length;
  for (;;) {
    if (src[i] !== 0x3d) return i;
    let j = i + 1;
    while (j < n && (src[j] === 0x20 || src[j] === 0x09)) j++;
    if (src[j] === LF) i = j + 1;
    else if (src[j] === CR && src[j + 1] === LF) i = j + 2;
    else return i;
  }
}

/**
 * Reads quoted-printable sequence by sequence, writing the decoded bytes to `out` (at least
 * min(stopAt, src.length) long), until `stopAt` decoded bytes (a cut may fall inside a run of
 * literal spaces) or the end.
 */
function walkQuotedPrintable(src: Buffer, out: Buffer, stopAt: number): { encoded: number; decoded: number } {
  const n = src.length;
  let o = 0;
  let i = 0;
  while (i < n && o < stopAt) {
    const c = src[i]!;
    if (c === 0x3d) {
      let j = i + 1;
      while (j < n && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j >= n) {
        i = j; // soft break at the very end
        continue;
      }
      if (src[j] === LF) {
        i = j + 1;
        continue;
      }
      if (src[j] === CR && src[j + 1] === LF) {
        i = j + 2;
        continue;
      }
      const hi = hexVal(src[i + 1]);
      const lo = hexVal(src[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 3;
      } else {
        out[o++] = c;
        i++;
      }
    } else if (c === 0x20 || c === 0x09) {
      let j = i;
      while (j < n && (src[j] === 0x20 || src[j] === 0x09)) j++;
      // literal unless it is padding before a line break (trailing space at the very end is content)
      if (j >= n || (src[j] !== LF && !(src[j] === CR && src[j + 1] === LF))) {
        if (o + (j - i) > stopAt) return { encoded: i + (stopAt - o), decoded: stopAt }; // the cut falls inside the run
        // (a byte loop: Buffer#copy makes a typed-array view per call, garbage on every space)
        for (let k = i; k < j; k++) out[o++] = src[k]!;
      }
      i = j;
    } else {
      out[o++] = c;
      i++;
    }
  }
  return { encoded: i, decoded: o };
}

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
/** Bytes that quoted-printable may carry as themselves (printable ASCII but "="). */
const QP_SAFE = new Uint8Array(256);
for (let c = 33; c <= 126; c++) if (c !== 61) QP_SAFE[c] = 1;

/** Bytes a quoted-printable line may carry as themselves, except as the line's last byte: QP_SAFE plus space and tab. */
const QP_LITERAL = new Uint8Array(256);
for (let c = 0; c < 256; c++) QP_LITERAL[c] = QP_SAFE[c] === 1 || c === 0x20 || c === 0x09 ? 1 : 0;

const DASH = 0x2d;

/**
 * Encodes text as quoted-printable with hard line breaks kept as `eol` and soft breaks so no
 * encoded line is longer than 76 characters. Works on bytes into one preallocated buffer (a
 * 10 MB part must not become millions of small strings or native calls). No encoded line starts
 * with "-" (it goes out as =2D there): a soft break in front of "--boundary" would otherwise
 * make a line a MIME parser reads as a boundary of the message.
 */
export function encodeQuotedPrintable(data: Buffer, eol: LineEnding): Buffer {
  const e = Buffer.from(eol, 'latin1');
  const e0 = e[0]!;
  const e1 = e.length === 2 ? e[1]! : -1;
  const crlfMessage = eol === '\r\n';
  // mostly-ASCII text grows a little; the buffer grows when a line could not fit
  let out = Buffer.allocUnsafe(Math.ceil(data.length * 1.2) + 256);
  let o = 0;
  const n = data.length;
  let start = 0;
  for (;;) {
    let nl = data.indexOf(LF, start);
    const last = nl < 0;
    if (last) nl = n;
    // worst case for this line: every byte "=XX", a soft break per 25 of them, "=0A=" + eol
    const need = (nl - start + 1) * 3 + Math.ceil((nl - start + 1) / 25) * (1 + e.length) + 8;
    if (out.length - o < need) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + need));
      out.copy(bigger, 0, 0, o);
      out = bigger;
    }
    let end = nl;
    const crlf = !last && end > start && data[end - 1] === CR;
    if (crlf) end--;
    if (last) {
      o = qpLine(data, start, end, false, out, o, e0, e1);
      break;
    }
    // a hard break decodes to the message's own line ending; when the decoded text used the
    // other one, the difference is spelled out (=0D, or =0A plus a soft break) so the decoded
    // bytes stay exactly as they were
    if (crlf === crlfMessage) {
      o = qpLine(data, start, end, false, out, o, e0, e1);
    } else if (crlf) {
      o = qpLine(data, start, end + 1, false, out, o, e0, e1);
    } else {
      o = qpLine(data, start, nl + 1, true, out, o, e0, e1);
      out[o++] = 61;
    }
    out[o++] = e0;
    if (e1 >= 0) out[o++] = e1;
    start = nl + 1;
    if (start === n) break;
  }
  return out.subarray(0, o);
}

/**
 * One line: every byte but the last may use columns up to 75 (a soft break "=" is the 76th);
 * the last may use the 76th itself unless a soft break follows it. Space and tab are literal
 * except as the last byte.
 */
function qpLine(data: Buffer, start: number, end: number, softAfter: boolean, out: Buffer, o: number, e0: number, e1: number): number {
  if (end <= start) return o;
  let col = 0;
  const lastAt = end - 1;
  for (let i = start; i < lastAt; i++) {
    // a run of bytes that go out as themselves, up to the soft-break column, in a tight loop
    // (no Buffer#copy: it makes a typed-array view per call)
    let j = i;
    const stop = Math.min(lastAt, i + 75 - col);
    if (col !== 0 || data[i] !== DASH) {
      while (j < stop) {
        const b = data[j]!;
        if (QP_LITERAL[b] !== 1) break;
        out[o++] = b;
        j++;
      }
    }
    if (j > i) {
      col += j - i;
      i = j - 1;
      continue;
    }
    const c = data[i]!;
    let literal = QP_LITERAL[c] === 1;
    if (literal && col >= 75) {
      // only reached at column 75: the run above stops there
      out[o++] = 61;
      out[o++] = e0;
      if (e1 >= 0) out[o++] = e1;
      col = 0;
    }
    if (col === 0 && c === DASH) literal = false;
    if (literal) {
      out[o++] = c;
      col++;
    } else {
      if (col > 72) {
        out[o++] = 61;
        out[o++] = e0;
        if (e1 >= 0) out[o++] = e1;
        col = 0;
      }
      out[o++] = 61;
      out[o++] = HEX[c >> 4]!;
      out[o++] = HEX[c & 15]!;
      col += 3;
    }
  }
  const c = data[lastAt]!;
  let literal = QP_SAFE[c] === 1 && !(col === 0 && c === DASH);
  const limit = softAfter ? 75 : 76;
  if (col + (literal ? 1 : 3) > limit) {
    out[o++] = 61;
    out[o++] = e0;
    if (e1 >= 0) out[o++] = e1;
    if (c === DASH) literal = false; // it now starts a line
  }
  if (literal) out[o++] = c;
  else {
    out[o++] = 61;
    out[o++] = HEX[c >> 4]!;
    out[o++] = HEX[c & 15]!;
  }
  return o;
}

/**
 * Quoted-printable `content` with `inserted` (decoded bytes, ending with a line break) added
 * where its first `at` decoded bytes end: only the insertion is encoded, every original byte
 * stays as it was. Undefined when the cut cannot be made within the 76-column limit (the
 * caller then re-encodes the whole part).
 */
export function spliceQuotedPrintable(
  content: Buffer,
  at: number,
  inserted: Buffer,
  eol: LineEnding,
  encode: (inserted: Buffer) => Buffer = (b) => encodeQuotedPrintable(b, eol),
): Buffer | undefined {
  if (inserted.length === 0) return content;
  if (inserted[inserted.length - 1] !== LF) return undefined;
  const cut = quotedPrintableOffset(content, at);
  // between the CR and LF of a hard break, a soft break would turn padding into content
  if (content[cut - 1] === CR && content[cut] === LF) return undefined;
  const lineStart = content.lastIndexOf(LF, cut - 1) + 1;
  const midLine = cut > lineStart;
  // the rest of a line cut in two starts a line after the insertion: never with "-" (see encodeQuotedPrintable)
  if (midLine && content[cut] === DASH) return undefined;
  if (midLine) {
    // a line cut in two ends with a soft break "=": it must fit in 76 columns, or in the
    // sender's own longer line (which it then shortens, never lengthens)
    let lineEnd = content.indexOf(LF, cut);
    if (lineEnd < 0) lineEnd = content.length;
    else if (lineEnd > 0 && content[lineEnd - 1] === CR) lineEnd--;
    if (cut - lineStart + 1 > Math.max(76, lineEnd - lineStart)) return undefined;
  }
  const encoded = encode(inserted);
  const pieces = [content.subarray(0, cut)];
  if (midLine) pieces.push(Buffer.from(`=${eol}`, 'latin1'));
  pieces.push(encoded, content.subarray(cut));
  return Buffer.concat(pieces);
}

export function encodeBase64(data: Buffer, eol: string): string {
  return encodeBase64Buffer(data, eol).toString('latin1');
}

/** Base64 in lines of 76 characters, each ended by `eol`, straight into one buffer. */
export function encodeBase64Buffer(data: Buffer, eol: string): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const b64 = Buffer.from(data.toString('base64'), 'latin1');
  const e = Buffer.from(eol, 'latin1');
  const lines = Math.ceil(b64.length / 76);
  const out = Buffer.allocUnsafe(b64.length + lines * e.length);
  let o = 0;
  for (let i = 0; i < b64.length; i += 76) {
    const stop = Math.min(i + 76, b64.length);
    for (let k = i; k < stop; k++) out[o++] = b64[k]!;
    for (let k = 0; k < e.length; k++) out[o++] = e[k]!;
  }
  return out;
}

export function decodeBase64(data: Buffer): Buffer {
  return Buffer.from(data.toString('latin1'), 'base64');
}

/** A charset the engine can decode and re-encode. */
export interface Codec {
  readonly name: string;
  decode(bytes: Buffer): string;
  encode(text: string): Buffer;
  /** Whether `text` survives encoding in this charset. */
  canEncode(text: string): boolean;
  /** One character per byte both ways: a string index is the byte offset. */
  readonly singleByte?: boolean;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

const utf8: Codec = {
  name: 'utf-8',
  decode: (b) => b.toString('utf8'),
  encode: (s) => Buffer.from(s, 'utf8'),
  canEncode: () => true,
};

// us-ascii (and a missing charset): read byte-transparently so mislabelled 8-bit bytes
// survive untouched; only ASCII may be added.
const asciiTransparent: Codec = {
  name: 'us-ascii',
  singleByte: true,
  decode: (b) => b.toString('latin1'),
  encode: (s) => Buffer.from(s, 'latin1'),
  canEncode: (s) => ASCII_ONLY.test(s),
};

const LATIN1_ONLY = /^[\x00-\xff]*$/;

// ISO-8859-1 is Node's own latin1 (iconv-lite maps it the same way, byte n = U+00nn), so it
// needs no table and no per-call decoder objects: Western European mail is common.
const latin1: Codec = {
  name: 'iso-8859-1',
  singleByte: true,
  decode: (b) => b.toString('latin1'),
  encode: (s) => Buffer.from(s, 'latin1'),
  canEncode: (s) => LATIN1_ONLY.test(s),
};

/** ISO-2022-JP through EUC-JP (iconv-lite has EUC-JP but not the 7-bit ISO-2022-JP form). */
const iso2022jp: Codec = {
  name: 'iso-2022-jp',
  decode(b) {
    const euc: number[] = [];
    let mode: 'ascii' | 'jis' | 'kana' = 'ascii';
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0x1b) {
        const a = b[i + 1];
        const d = b[i + 2];
        if (a === 0x28 && (d === 0x42 || d === 0x4a)) mode = 'ascii';
        else if (a === 0x24 && (d === 0x40 || d === 0x42)) mode = 'jis';
        else if (a === 0x28 && d === 0x49) mode = 'kana';
        else {
          euc.push(c);
          continue;
        }
        i += 2;
        continue;
      }
      if (c === LF || c === CR) {
        mode = 'ascii';
        euc.push(c);
      } else if (mode === 'jis' && c >= 0x21 && c <= 0x7e && i + 1 < b.length) {
        euc.push(c | 0x80, b[++i]! | 0x80);
      } else if (mode === 'kana' && c >= 0x21 && c <= 0x5f) {
        euc.push(0x8e, c | 0x80);
      } else {
        euc.push(c);
      }
    }
    return iconv.decode(Buffer.from(euc), 'euc-jp');
  },
  encode(s) {
    const euc = iconv.encode(s, 'euc-jp');
    const out: number[] = [];
    let mode: 'ascii' | 'jis' | 'kana' = 'ascii';
    const to = (m: typeof mode): void => {
      if (mode === m) return;
      if (m === 'ascii') out.push(0x1b, 0x28, 0x42);
      else if (m === 'jis') out.push(0x1b, 0x24, 0x42);
      else out.push(0x1b, 0x28, 0x49);
      mode = m;
    };
    for (let i = 0; i < euc.length; i++) {
      const c = euc[i]!;
      if (c < 0x80) {
        to('ascii');
        out.push(c);
      } else if (c === 0x8e) {
        to('kana');
        out.push(euc[++i]! & 0x7f);
      } else if (c === 0x8f) {
        to('ascii');
        out.push(0x3f); // JIS X 0212 has no ISO-2022-JP form
        i += 2;
      } else {
        to('jis');
        out.push(c & 0x7f, euc[++i]! & 0x7f);
      }
    }
    to('ascii');
    return Buffer.from(out);
  },
  canEncode(s) {
    return this.decode(this.encode(s)) === s;
  },
};

const ALIASES: Record<string, string> = {
  'ks_c_5601-1987': 'cp949',
  'x-sjis': 'shift_jis',
  'x-user-defined': 'windows-1252',
};

/** The codec for a charset label, or undefined when it is unknown (the part then passes unchanged). */
export function codecFor(label: string | undefined): Codec | undefined {
  const name = (label ?? '').trim().replace(/^"|"$/g, '').toLowerCase();
  if (name === '' || name === 'us-ascii' || name === 'ascii' || name === 'ansi_x3.4-1968' || name === 'iso646-us') {
    return asciiTransparent;
  }
  if (name === 'utf-8' || name === 'utf8') return utf8;
  if (name === 'iso-2022-jp' || name === 'csiso2022jp') return iso2022jp;
  if (name === 'iso-8859-1' || name === 'iso8859-1' || name === 'latin1' || name === 'l1' || name === 'iso_8859-1') return { ...latin1, name };
  const real = ALIASES[name] ?? name;
  if (!iconv.encodingExists(real)) return undefined;
  return {
    name,
    decode: (b) => iconv.decode(b, real, { stripBOM: false }),
    encode: (s) => iconv.encode(s, real, { addBOM: false }),
    canEncode(s) {
      return iconv.decode(iconv.encode(s, real), real) === s;
    },
  };
}

export { utf8 as utf8Codec, asciiTransparent as asciiTransparentCodec };
