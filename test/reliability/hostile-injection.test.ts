// Header and MIME injection through what the signature is made of: directory attributes (a
// Graph snapshot or a directory file may carry anything a YAML string can: CR, LF, NUL, escape
// sequences, megabytes), the From display name a sender outside the directory is signed with,
// and template text. The real path: config loader, compiled policy, relay, engine, next hop.
//
// Defined answer: the message is relayed (250) and signed; the next hop gets it with the same
// top-level header fields (plus the relay's Received and X-Sigops-Processed), the same MIME tree,
// every part but the signed text parts byte-identical, the signed parts changed by one insertion
// that carries no control character but line breaks and tabs, and a clean wire (CRLF only, no NUL,
// every leading dot stuffed). A signature line that would read as a boundary of the message is
// indented by one space, so it cannot end or open a MIME part.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigRepo } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { bodyParts, decodedText, parseMime, verifyOutput } from '../mime/helpers.ts';
import { CONTOSO, replyMessage } from '../relay/helpers.ts';
import { engineOutput, FULL, startRelay, startWireNextHop, Tally, tlsSession, transaction, wireProblem, type HostileRelay, type WireNextHop } from './hostile-smtp.ts';
import type { RawSmtp } from '../relay/helpers.ts';

const B = 'b1_reply_boundary'; // the boundary of replyMessage()
const LONG = FULL ? 2 * 1024 * 1024 : 256 * 1024;

/** Directory users whose attributes try to add headers, break MIME, smuggle or overflow. */
const USERS: Record<string, Record<string, string>> = {
  'crlf@contoso.com': { displayName: 'Alice\r\nBcc: victim@example.org', jobTitle: 'Sales\nSubject: injected', department: 'Dept\r\n\r\nX-Injected: body?' },
  'boundary@contoso.com': {
    displayName: 'Bob',
    jobTitle: `\r\n--${B}--\r\nContent-Type: text/html\r\n\r\n<p>injected part</p>`,
    department: `--${B}`,
    officeLocation: `x --${B}--`,
  },
  'control@contoso.com': { displayName: 'Carol\x00Chief', department: 'R&D\x01\x07\x1b[31mred\x7f', officeLocation: 'tab\there' },
  'smuggle@contoso.com': { displayName: 'Dan', mobile: '\r\n\x00.\r\nMAIL FROM:<ceo@contoso.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n', note: '\n.\n\r.\r\r\n.\r\n' },
  'barecr@contoso.com': { displayName: 'Erin\rX-Injected: yes', officeLocation: '\rFrom: ceo@fabrikam.com\r\r\n.\r' },
  'long@contoso.com': { displayName: 'Frank', note: 'x'.repeat(LONG), jobTitle: 'word '.repeat(LONG / 5) },
};

const HTML = `<table><tr><td>{{user.displayName}}</td></tr><tr><td>{{user.jobTitle}} | {{user.department}}</td></tr>
<tr><td>{{user.officeLocation}} {{user.mobile}} {{user.note}}</td></tr></table>`;
const TEXT = `{{user.displayName}}
{{user.jobTitle}}
{{user.department}}
{{user.officeLocation}}
{{user.mobile}}
{{user.note}}
`;

async function hostileConfig(dir: string): Promise<void> {
  await mkdir(join(dir, 'tenants'), { recursive: true });
  await mkdir(join(dir, 'templates'));
  await mkdir(join(dir, 'directory'));
  await writeFile(
    join(dir, 'tenants', 'contoso.yaml'),
    [
      `id: ${CONTOSO}`,
      'name: Contoso Ltd',
      'domains: [contoso.com]',
      'exchange:',
      '  smartHost: relay.sigops.example.net',
      '  certificateDomain: relay.contoso.com',
      '  deliverTo: contoso-com.mail.protection.outlook.com',
      '  senders: all',
      'directory:',
      '  source: file',
      '  file: directory/contoso.yaml',
      'rules:',
      '  - name: default',
      '    signature: hostile',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'templates', 'hostile.html.hbs'), HTML);
  await writeFile(join(dir, 'templates', 'hostile.txt.hbs'), TEXT);
  // JSON is YAML: every control character arrives exactly as written
  const users = Object.entries(USERS).map(([email, attrs]) => ({ email, ...attrs }));
  await writeFile(join(dir, 'directory', 'contoso.yaml'), JSON.stringify({ users }));
}

/** Three shapes: Gmail-style multipart/alternative reply, single text/plain, text + attachment. */
function messages(from: string, name: string): Array<[string, string]> {
  const head = (ct: string) =>
    `From: ${name} <${from}>\r\nTo: Bob <bob@example.org>\r\nSubject: hostile signature\r\nMIME-Version: 1.0\r\nX-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\nContent-Type: ${ct}\r\n\r\n`;
  const reply = replyMessage({ from }).replace(/^From: [^\r\n]*/, `From: ${name} <${from}>`);
  return [
    ['multipart/alternative reply', reply],
    ['single text/plain', head('text/plain; charset=utf-8') + 'Hi Bob,\r\n\r\nsee below.\r\n\r\nOn Mon, Bob wrote:\r\n> old\r\n'],
    [
      'text and attachment',
      head(`multipart/mixed; boundary="${B}"`) +
        `--${B}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHi Bob, attached.\r\n--${B}\r\nContent-Type: application/octet-stream; name="a.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('binary\x00\x01\x02').toString('base64')}\r\n--${B}--\r\n`,
    ],
  ];
}

describe('hostile input: header and MIME injection through directory attributes and templates', () => {
  let dir: string;
  let hop: WireNextHop;
  let relay: HostileRelay;
  let c: RawSmtp;
  const tally = new Tally();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-injection-'));
    await hostileConfig(dir);
    const loaded = await loadConfigRepo(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join('\n'));
    hop = await startWireNextHop({ lenient: true });
    relay = await startRelay({ hop, policy: compilePolicy(loaded.config) });
    c = await tlsSession(relay.port);
  });
  after(async () => {
    c.close();
    await relay.stop();
    await hop.close();
    await rm(dir, { recursive: true, force: true });
    process.stdout.write(`# reliability hostile injection: ${tally}\n`);
  });

  const senders: Array<[string, string]> = [
    ...Object.entries(USERS).map(([email, a]) => [email, a.displayName ?? 'x'] as [string, string]),
    // not in the directory: signed with the From display name, which the sender chose
    ['eve@contoso.com', `"--${B}--"`],
    ['mallet@contoso.com', `"--${B}"`],
  ];
  for (const [from, display] of senders) {
    for (const [shape, raw] of messages(from, display.includes('\r') || display.includes('\n') || display.includes('\x00') ? 'Someone' : display)) {
      it(`${from}, ${shape}: relayed and signed, no header added, MIME intact`, async () => {
        const before = hop.transactions.length;
        const input = Buffer.from(raw, 'utf8');
        const answer = await transaction(c, from, ['bob@example.org'], input);
        assert.match(answer, /^250 2\.6\.0 /);
        const delivered = hop.transactions.slice(before);
        assert.equal(delivered.length, 1, 'exactly one message at the (lenient) next hop');
        const wire = delivered[0]!.wire;
        assert.equal(wireProblem(wire), undefined);
        assert.ok(!wire.includes(0), 'no NUL on the wire');
        const out = engineOutput(wire);
        const inserted = verifyOutput(input, out, { signed: true });
        assert.ok(inserted.text || inserted.html, 'the signature went in');
        const parts = bodyParts(parseMime(out));
        for (const p of [parts.text, parts.html]) {
          if (!p) continue;
          assert.doesNotMatch(decodedText(p), /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/, 'no control characters but CR, LF and tab');
        }
        tally.add('signed');
      });
    }
  }
});
