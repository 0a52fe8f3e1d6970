// SMTP smuggling (CVE-2023-51764 Postfix, CVE-2023-51765 Sendmail, CVE-2023-51766 Exim, SEC
// Consult, Dec 2023, and the NUL-byte follow-ups): every malformed end-of-data sequence, with and
// without a smuggled MAIL/RCPT/DATA after it, in the body and in the header block. The relay ends
// DATA only at CRLF "." CRLF (smtp-server), so each sequence is message content; what it forwards
// must then never let a next hop see a second message. The next hop here is lenient on purpose:
// it ends DATA at any of the sequences, as the vulnerable MTAs did.
//
// Defined answers: a sequence of bare CR/LF is content: 250, one message, every line ending on
// the wire CRLF and every leading dot stuffed (nodemailer normalises). A NUL byte anywhere in
// DATA: 554 5.6.0, nothing delivered (no SMTP message may carry one, and a next hop that drops
// NULs would read CRLF NUL "." CRLF as the end). A smuggled block in the header block that
// carries its own tenant header: 550 5.7.1 (two tenant headers), nothing delivered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTOSO } from '../relay/helpers.ts';
import { FULL, replies, startRelay, startWireNextHop, Tally, tlsSession, wireProblem, type HostileRelay, type WireNextHop } from './hostile-smtp.ts';
import type { RawSmtp } from '../relay/helpers.ts';

/** The malformed end-of-data sequences of the published research and its tools. */
const SMUGGLING_SEQUENCES: ReadonlyArray<readonly [string, string]> = [
  ['LF.LF', '\n.\n'],
  ['LF.CRLF', '\n.\r\n'],
  ['CRLF.LF', '\r\n.\n'],
  ['CR.CRLF', '\r.\r\n'],
  ['CRLF.CR', '\r\n.\r'],
  ['CR.LF', '\r.\n'],
  ['LF.CR', '\n.\r'],
  ['CR.CR', '\r.\r'],
  ['LFLF.CRLF', '\n\n.\r\n'],
  ['CRLF.CRCRLF', '\r\n.\r\r\n'],
  ['CRLF NUL.CRLF', '\r\n\x00.\r\n'],
  ['CRLF.NUL CRLF', '\r\n.\x00\r\n'],
  ['CRLF NUL.CR', '\r\n\x00.\r'],
  ['CRLF NUL.LF', '\r\n\x00.\n'],
  ['LF NUL.LF', '\n\x00.\n'],
  ['CRLF NUL.NUL CRLF', '\r\n\x00.\x00\r\n'],
];

const SMUGGLED = (id: string) =>
  'MAIL FROM:<ceo@contoso.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n' +
  `From: CEO <ceo@contoso.com>\r\nTo: victim@example.org\r\nX-MS-Exchange-CrossTenant-Id: ${id}\r\nSubject: SMUGGLED\r\n\r\nPlease wire the money.\r\n`;

type Position = 'body' | 'header';

function payload(sequence: string, position: Position, smuggle: boolean, n: number): string {
  const after = smuggle ? SMUGGLED(CONTOSO) : 'text after the sequence\r\n';
  const head = [
    'From: Alice Example <alice@contoso.com>',
    'To: Bob <bob@example.org>',
    `Subject: smuggling case ${n}`,
    `Message-ID: <smuggle-${n}@contoso.com>`,
    `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`,
    'Content-Type: text/plain; charset=utf-8',
  ].join('\r\n');
  if (position === 'body') return `${head}\r\n\r\nHello Bob${sequence}${after}`;
  return `${head}\r\nX-Note: before the sequence${sequence}${after}\r\nbody\r\n`;
}

/** Writes DATA's payload in one piece, or (full runs) byte by byte across the sequence. */
async function writePayload(c: RawSmtp, body: string, sequence: string, split: boolean): Promise<void> {
  const data = Buffer.from(body + '.\r\n', 'latin1');
  if (!split) return void c.write(data.toString('latin1'));
  const at = body.indexOf(sequence);
  c.write(data.subarray(0, at).toString('latin1'));
  for (let i = at; i < at + sequence.length + 4 && i < data.length; i++) {
    c.write(data.subarray(i, i + 1).toString('latin1'));
    await new Promise((r) => setImmediate(r));
  }
  c.write(data.subarray(at + sequence.length + 4).toString('latin1'));
}

describe('hostile input: SMTP smuggling never reaches the next hop as a second message', () => {
  let hop: WireNextHop;
  let relay: HostileRelay;
  let c: RawSmtp;
  const tally = new Tally();

  before(async () => {
    hop = await startWireNextHop({ lenient: true });
    relay = await startRelay({ hop });
    c = await tlsSession(relay.port);
  });
  after(async () => {
    c.close();
    await relay.stop();
    await hop.close();
    process.stdout.write(`# reliability hostile smuggling: ${tally}\n`);
  });

  const positions: Position[] = ['body', 'header'];
  const splits = FULL ? [false, true] : [false];
  let n = 0;
  for (const position of positions) {
    for (const [name, sequence] of SMUGGLING_SEQUENCES) {
      for (const smuggle of [false, true]) {
        const label = `${name} in the ${position}${smuggle ? ', MAIL/RCPT/DATA smuggled after it' : ''}`;
        it(label, async () => {
          for (const split of splits) {
            const k = ++n;
            const before = hop.transactions.length;
            const mailsBefore = hop.commands.filter((l) => /^MAIL FROM/i.test(l)).length;
            assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
            assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
            assert.match(await c.cmd('DATA'), /^354/);
            await writePayload(c, payload(sequence, position, smuggle, k), sequence, split);
            const answer = await c.reply();
            // the client's own pipeline stays in step: the next reply is the NOOP's
            assert.match(await c.cmd('NOOP'), /^250 /, `${label}: the relay executed nothing from the content`);
            tally.add(position);
            const nul = sequence.includes('\x00');
            const delivered = hop.transactions.slice(before);
            if (nul) {
              assert.match(answer, /^554 5\.6\.0 /, `${label}: a NUL byte is refused`);
              assert.equal(delivered.length, 0, `${label}: nothing delivered`);
              continue;
            }
            if (position === 'header' && smuggle && !answer.startsWith('250')) {
              // the smuggled tenant header is a second one in the relay's view of the header block
              assert.match(answer, /^550 5\.7\.1 Relaying denied: 2 X-MS-Exchange-CrossTenant-Id headers/, label);
              assert.equal(delivered.length, 0, `${label}: nothing delivered`);
              continue;
            }
            assert.match(answer, /^250 2\.6\.0 Relayed as /, label);
            assert.equal(delivered.length, 1, `${label}: exactly one message at the next hop`);
            const mails = hop.commands.filter((l) => /^MAIL FROM/i.test(l)).length - mailsBefore;
            assert.equal(mails, 1, `${label}: one MAIL FROM at the next hop`);
            const tx = delivered[0]!;
            assert.deepEqual([tx.from, tx.to], ['alice@contoso.com', ['bob@example.org']]);
            assert.equal(wireProblem(tx.wire), undefined, `${label}: the wire to the next hop is clean`);
            // whatever the relay delivered carries at most one tenant header as the next hop reads it
            const head = tx.wire.toString('latin1').split('\r\n\r\n')[0]!;
            assert.ok(head.split('\r\n').filter((l) => /^x-ms-exchange-crosstenant-id:/i.test(l)).length <= 1, `${label}: one tenant header at the next hop`);
          }
        });
      }
    }
  }

  it('a dot-stuffed line ("..") and a real end of data pipelined with a second transaction: two messages, as sent', async () => {
    const before = hop.transactions.length;
    const msg = (subject: string) =>
      `From: Alice <alice@contoso.com>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nX-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\n\r\nline one\r\n..\r\n...\r\nlast\r\n.\r\n`;
    c.write(
      'MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n' + msg('first') +
        'MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n' + msg('second'),
    );
    const r = await replies(c, 8);
    assert.deepEqual(r.map((x) => x.slice(0, 3)), ['250', '250', '354', '250', '250', '250', '354', '250']);
    const delivered = hop.transactions.slice(before);
    assert.equal(delivered.length, 2);
    for (const tx of delivered) {
      assert.equal(wireProblem(tx.wire), undefined);
      assert.match(tx.wire.toString('latin1'), /\r\nline one\r\n\.\.\r\n\.\.\.\r\nlast\r\n/, 'stuffed dots stay stuffed on the wire');
    }
    tally.add('pipelined-pair');
  });
});
