// Transfer encodings and charsets of the signed text parts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { codecFor, decodeBase64, decodeQuotedPrintable, encodeBase64, encodeQuotedPrintable, quotedPrintableOffset, spliceQuotedPrintable } from '../../src/mime/encoding.ts';
import { parseContentType, parseHeaderFields, parseMailbox, parseAddressList, setHeaderField, withCharset, HeaderBlock } from '../../src/mime/headers.ts';

// text-like bytes: lines, spaces at line ends, '=' signs, 8-bit, lone CRs
const textBytes = fc
  .array(fc.oneof(fc.constantFrom(0x0a, 0x0d, 0x20, 0x09, 0x3d, 0x2e), fc.integer({ min: 0, max: 255 })), { maxLength: 600 })
  .map((a) => Buffer.from(a));

describe('quoted-printable', () => {
  for (const eol of ['\r\n', '\n'] as const) {
    it(`round-trips any bytes with ${JSON.stringify(eol)} line breaks, lines ≤ 76`, () => {
      fc.assert(
        fc.property(textBytes, (data) => {
          const enc = encodeQuotedPrintable(data, eol).toString('latin1');
          for (const line of enc.split(eol)) assert.ok(line.length <= 76, `line ${JSON.stringify(line)}`);
          assert.ok(!/[^\x09\x0a\x0d\x20-\x7e]/.test(enc), 'only printable ASCII');
          if (eol === '\r\n') assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(enc), 'no bare CR/LF');
          assert.ok(decodeQuotedPrintable(Buffer.from(enc, 'latin1')).equals(data));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('decodes soft breaks, hex (any case), and keeps broken escapes literally', () => {
    assert.equal(decodeQuotedPrintable(Buffer.from('a=\r\nb=3D=3d=\nc= \r\nd=ZZ=4')).toString('latin1'), 'ab==cd=ZZ=4');
    assert.equal(decodeQuotedPrintable(Buffer.from('trailing   \r\nx')).toString(), 'trailing\r\nx');
  });

  it('encodes trailing whitespace and a leading line break faithfully', () => {
    assert.equal(encodeQuotedPrintable(Buffer.from('a \nb\t\n'), '\n').toString(), 'a=20\nb=09\n');
    assert.equal(encodeQuotedPrintable(Buffer.from('x'.repeat(80)), '\n').toString(), 'x'.repeat(75) + '=\n' + 'x'.repeat(5));
  });
});

// quoted-printable as senders write it: our encoder's output, or hand-written sequences with
// soft breaks, padding before line ends, broken escapes and lower-case hex
const senderQp = fc.oneof(
  textBytes.map((d) => encodeQuotedPrintable(d, '\r\n')),
  fc
    .array(fc.constantFrom('a', 'b', ' ', '\t', '=\r\n', '= \r\n', '=\n', '\r\n', '  \r\n', '=3D', '=3d', '=ZZ', '=4', '=C3=A9', '.', '='), { maxLength: 120 })
    .map((a) => Buffer.from(a.join(''), 'latin1')),
);

describe('quoted-printable splice', () => {
  it('cuts where the first n decoded bytes end, for every n between line breaks', () => {
    fc.assert(
      fc.property(senderQp, (qp) => {
        const decoded = decodeQuotedPrintable(qp);
        for (let n = 0; n <= decoded.length; n++) {
          if (decoded[n - 1] === 13 && decoded[n] === 10) continue; // never cut a line break in two
          const cut = quotedPrintableOffset(qp, n);
          // what comes before the cut, closed by a soft break, is the first n bytes; what follows
          // it is the rest, read on its own
          const soft = Buffer.from('=\r\n');
          assert.ok(decodeQuotedPrintable(Buffer.concat([qp.subarray(0, cut), soft])).equals(decoded.subarray(0, n)), `prefix at ${n}`);
          assert.ok(decodeQuotedPrintable(qp.subarray(cut)).equals(decoded.subarray(n)), `rest at ${n}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('inserts by encoding only the insertion: every original byte stays, lines we write fit in 76', () => {
    const insertion = fc.tuple(textBytes, fc.constantFrom('\r\n', '\n')).map(([b, e]) => Buffer.concat([b, Buffer.from(e)]));
    fc.assert(
      fc.property(textBytes, insertion, fc.nat(), (text, ins, pick) => {
        const qp = encodeQuotedPrintable(text, '\r\n');
        const at = pick % (text.length + 1);
        const out = spliceQuotedPrintable(qp, at, ins, '\r\n');
        if (!out) return; // the cut would not fit in 76 columns: the caller re-encodes whole
        assert.ok(decodeQuotedPrintable(out).equals(Buffer.concat([text.subarray(0, at), ins, text.subarray(at)])));
        const cut = quotedPrintableOffset(qp, at);
        assert.ok(out.subarray(0, cut).equals(qp.subarray(0, cut)), 'bytes before the cut unchanged');
        assert.ok(out.subarray(out.length - (qp.length - cut)).equals(qp.subarray(cut)), 'bytes after the cut unchanged');
        for (const line of out.toString('latin1').split('\r\n')) assert.ok(line.length <= 76, `line ${JSON.stringify(line)}`);
      }),
      { numRuns: 500 },
    );
  });

  it('ends a cut line with a soft break, and refuses a cut that would make a line longer than 76 or than it was', () => {
    const qp = Buffer.from('Hello world=\r\nagain\r\n', 'latin1');
    assert.equal(spliceQuotedPrintable(qp, 5, Buffer.from('SIG\r\n'), '\r\n')!.toString(), 'Hello=\r\nSIG\r\n world=\r\nagain\r\n');
    // after "Hello world" comes a soft break: the cut moves past it, no new soft break needed
    assert.equal(spliceQuotedPrintable(qp, 11, Buffer.from('SIG\r\n'), '\r\n')!.toString(), 'Hello world=\r\nSIG\r\nagain\r\n');
    const full = Buffer.from('x'.repeat(76) + '\r\ny', 'latin1');
    assert.equal(spliceQuotedPrintable(full, 76, Buffer.from('SIG\r\n'), '\r\n'), undefined);
    // a sender's line longer than 76 may be cut: both halves are shorter than it was
    const long = Buffer.from('y'.repeat(100) + '\r\nz', 'latin1');
    assert.equal(spliceQuotedPrintable(long, 80, Buffer.from('SIG\r\n'), '\r\n')!.toString(), 'y'.repeat(80) + '=\r\nSIG\r\n' + 'y'.repeat(20) + '\r\nz');
    assert.equal(spliceQuotedPrintable(long, 100, Buffer.from('SIG\r\n'), '\r\n'), undefined, 'the whole line and "=" would be longer than it');
    assert.equal(spliceQuotedPrintable(qp, 3, Buffer.from('no line break'), '\r\n'), undefined);
    assert.equal(spliceQuotedPrintable(Buffer.from('a  \r\nb'), 2, Buffer.from('SIG\r\n'), '\r\n'), undefined, 'not between CR and LF');
  });
});

describe('base64', () => {
  it('round-trips with 76-character lines', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (a) => {
        const data = Buffer.from(a);
        const enc = encodeBase64(data, '\r\n');
        for (const line of enc.split('\r\n')) assert.ok(line.length <= 76);
        assert.ok(decodeBase64(Buffer.from(enc)).equals(data));
      }),
    );
  });
});

describe('charsets', () => {
  it('knows the usual charsets and refuses unknown ones', () => {
    for (const c of ['utf-8', 'UTF8', '"iso-8859-1"', 'ISO-8859-15', 'windows-1252', 'Windows-1251', 'koi8-r', 'shift_jis', 'euc-kr', 'gb2312', 'big5', 'iso-2022-jp', 'us-ascii', undefined]) {
      assert.ok(codecFor(c), String(c));
    }
    assert.equal(codecFor('x-unknown-charset'), undefined);
  });

  it('ISO-2022-JP: decodes like the WHATWG decoder and re-encodes byte for byte', () => {
    const text = 'アリスさん\r\n明日の会議は10時からです。ｶﾀｶﾅ\r\nOK';
    const codec = codecFor('iso-2022-jp')!;
    const bytes = codec.encode(text);
    assert.ok(!/[\x80-\xff]/.test(bytes.toString('latin1')), '7-bit');
    assert.equal(new TextDecoder('iso-2022-jp').decode(bytes), text);
    assert.equal(codec.decode(bytes), text);
    assert.equal(codec.canEncode('é'), false);
    assert.equal(codec.canEncode('会議'), true);
  });

  it('us-ascii is read byte-transparently but only carries ASCII', () => {
    const c = codecFor('us-ascii')!;
    const raw = Buffer.from([0x48, 0xe9, 0x0a]);
    assert.ok(c.encode(c.decode(raw)).equals(raw));
    assert.equal(c.canEncode('é'), false);
  });
});

describe('headers', () => {
  const block = Buffer.from(
    'Received: from a\r\n\tby b; Mon, 3 Nov 2025\r\nFrom: "Example, Alice" <Alice@Contoso.COM>\r\nTo: bob@fabrikam.com, "Carol" <carol@x.org>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nSubject: second\r\nX-Bin: caf\xe9\r\nContent-Type: text/plain;\r\n charset="iso-8859-1"; format=flowed\r\n',
    'latin1',
  );
  it('get/getAll unfold, keep encoded words, are case-insensitive', () => {
    const h = new HeaderBlock(parseHeaderFields(block));
    assert.equal(h.get('received'), 'from a by b; Mon, 3 Nov 2025');
    assert.equal(h.get('SUBJECT'), '=?utf-8?q?Gr=C3=BC=C3=9Fe?=');
    assert.deepEqual(h.getAll('subject'), ['=?utf-8?q?Gr=C3=BC=C3=9Fe?=', 'second']);
    assert.deepEqual(h.from(), { address: 'alice@contoso.com', name: 'Example, Alice' });
    assert.ok(h.get('x-bin')!.startsWith('caf'));
    assert.equal(h.get('missing'), undefined);
    assert.deepEqual(parseAddressList(h.get('to')!), ['bob@fabrikam.com', 'carol@x.org']);
  });
  it('parses content types with quoted and RFC 2231 parameters', () => {
    const ct = parseContentType('Multipart/Mixed; boundary="a;b=c"; name*0="x"; name*1="y"');
    assert.equal(ct.mime, 'multipart/mixed');
    assert.equal(ct.params.get('boundary'), 'a;b=c');
    assert.equal(ct.params.get('name'), 'xy');
    assert.equal(parseContentType(undefined).mime, 'text/plain');
    assert.equal(parseContentType('multipart').mime, 'multipart/mixed');
  });
  it('edits one field in place and keeps every other byte', () => {
    const edited = setHeaderField(block, 'Content-Type', withCharset('text/plain; charset="iso-8859-1"; format=flowed', 'utf-8'), '\r\n');
    assert.equal(edited.toString('latin1'), block.toString('latin1').replace('Content-Type: text/plain;\r\n charset="iso-8859-1"; format=flowed\r\n', 'Content-Type: text/plain; charset=utf-8; format=flowed\r\n'));
    const added = setHeaderField(block, 'Content-Transfer-Encoding', 'quoted-printable', '\r\n');
    assert.ok(added.toString('latin1').endsWith('format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n'));
  });
  it('parses mailboxes forgivingly', () => {
    assert.deepEqual(parseMailbox('bob@x.org (Bob)'), { address: 'bob@x.org', name: 'Bob' });
    assert.deepEqual(parseMailbox('<bob@x.org>'), { address: 'bob@x.org' });
    assert.equal(parseMailbox('undisclosed-recipients:;'), undefined);
  });
});
