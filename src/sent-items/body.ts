// The body of the signed copy, as Graph's JSON message wants it: the HTML text of the message
// (its plain text when it has no HTML), decoded from its transfer encoding and charset. The
// signed copy is read back from the state directory whole (it is bounded in size); only the body
// is taken from it: every other property comes from the original in Sent Items.
import { parseContentType, parseHeaderFields, parseStructured } from '../mime/headers.ts';
import { codecFor, decodeBase64, decodeQuotedPrintable, utf8Codec } from '../mime/encoding.ts';

export interface MessageBody {
  readonly contentType: 'html' | 'text';
  readonly content: string;
}

interface Part {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** Deepest multipart nesting followed (the signing engine's own default). */
const MAX_DEPTH = 32;

/** The message's body (HTML preferred), or undefined when it has no readable text part. */
export function messageBody(raw: Buffer): MessageBody | undefined {
  return bodyOf(split(raw), 0);
}

function split(raw: Buffer): Part {
  if (raw[0] === 10 || (raw[0] === 13 && raw[1] === 10)) {
    // no header at all: the part starts with its empty line
    return { headers: new Map(), body: raw.subarray(raw[0] === 13 ? 2 : 1) };
  }
  // the header block ends at the first empty line (CRLF CRLF, or bare LF LF)
  let end = -1;
  let bodyStart = raw.length;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 10) continue;
    if (raw[i + 1] === 10) {
      end = i + 1;
      bodyStart = i + 2;
      break;
    }
    if (raw[i + 1] === 13 && raw[i + 2] === 10) {
      end = i + 1;
      bodyStart = i + 3;
      break;
    }
  }
  const block = end < 0 ? raw : raw.subarray(0, end);
  const headers = new Map<string, string>();
  for (const f of parseHeaderFields(block)) if (!headers.has(f.name)) headers.set(f.name, f.value);
  return { headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(bodyStart) };
}

function bodyOf(part: Part, depth: number): MessageBody | undefined {
  const ct = parseContentType(part.headers.get('content-type'));
  const disposition = parseStructured(part.headers.get('content-disposition') ?? 'inline').value;
  if (ct.type === 'multipart') {
    if (depth >= MAX_DEPTH) return undefined;
    const boundary = ct.params.get('boundary');
    if (!boundary) return undefined;
    const children = childrenOf(part.body, boundary).map(split);
    if (ct.subtype === 'alternative') {
      // the richest alternative: HTML over plain text
      const bodies = children.map((c) => bodyOf(c, depth + 1)).filter((b): b is MessageBody => b !== undefined);
      return bodies.find((b) => b.contentType === 'html') ?? bodies[0];
    }
    // mixed, related and the rest: the first part that holds text is the body
    for (const c of children) {
      const b = bodyOf(c, depth + 1);
      if (b) return b;
    }
    return undefined;
  }
  if (disposition === 'attachment' || ct.type !== 'text' || (ct.subtype !== 'html' && ct.subtype !== 'plain')) return undefined;
  const cte = (part.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  const bytes = cte === 'base64' ? decodeBase64(part.body) : cte === 'quoted-printable' ? decodeQuotedPrintable(part.body) : part.body;
  const codec = codecFor(ct.params.get('charset')) ?? utf8Codec;
  return { contentType: ct.subtype === 'html' ? 'html' : 'text', content: codec.decode(bytes) };
}

/** The parts of a multipart body, between `--boundary` lines, up to `--boundary--`. */
function childrenOf(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const lines = text.split(/(?<=\n)/);
  const out: Buffer[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const bare = line.replace(/\r?\n$/, '').trimEnd();
    if (bare === delimiter || bare === `${delimiter}--`) {
      if (current) {
        // the line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1)
        const joined = current.join('').replace(/\r?\n$/, '');
        out.push(Buffer.from(joined, 'latin1'));
      }
      if (bare === `${delimiter}--`) return out;
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current && current.length > 0) out.push(Buffer.from(current.join(''), 'latin1'));
  return out;
}
