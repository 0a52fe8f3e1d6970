// Every row of the answer table (ANSWER_CLASSES) played against a next hop that fails that way:
// the relay answers what the row says, counts the row's reason, and before the message is
// judged it never answers 5xx (Exchange would bounce at once what it could have retried).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { ANSWER_CLASSES, answerClassTable, type AnswerClass } from '../../src/relay/errors.ts';
import { startNextHop, startScriptedNextHop, type NextHop, type NextHopScript, type ScriptedNextHop } from '../fakes/next-hop.ts';
import { TestCa } from '../doctor/pki.ts';
import { message, send, startTestRelay } from './helpers.ts';

/** A next hop failing one way, and the certificate the relay trusts for it. */
interface Hop {
  readonly port: number;
  readonly ca?: Buffer;
  readonly scripted?: ScriptedNextHop;
  close(): Promise<void>;
}

interface Case {
  readonly name: string;
  hop(): Promise<Hop>;
  readonly to?: string[];
  /** What the answer text must say (the next hop's reply, the step …). */
  readonly text: RegExp;
  /** For rows that pass the next hop's own reply back: the reply expected. */
  readonly passed?: { readonly code: number; readonly enhanced: string };
}

const scripted = (script: NextHopScript) => async (): Promise<Hop> => {
  const h = await startScriptedNextHop(script);
  return { port: h.port, ca: h.cert, scripted: h, close: () => h.close() };
};

const smtpServer = (setup: (hop: NextHop) => void, options: Parameters<typeof startNextHop>[0] = {}, ca?: () => Buffer) => async (): Promise<Hop> => {
  const h = await startNextHop(options);
  setup(h);
  return { port: h.port, ca: ca ? ca() : h.cert, close: () => h.close() };
};

const pki = TestCa.create('sigops answer-table test CA');
after(() => pki.remove());

/** One or more ways to fail per row; a row without a case fails the test below. */
const CASES: Record<string, readonly Case[]> = {
  unreachable: [
    {
      name: 'nothing listens on the port',
      hop: async () => {
        const h = await startScriptedNextHop();
        await h.close();
        return { port: h.port, close: async () => undefined };
      },
      text: /No answer from next hop 127\.0\.0\.1:\d+/,
    },
  ],
  'no-greeting': [{ name: 'accepts, never greets', hop: scripted({ greeting: null }), text: /No answer from next hop/ }],
  'greeting-refused': [{ name: 'greets 554', hop: scripted({ greeting: '554 5.7.1 fake next hop takes no mail from you' }), text: /refused the session at its greeting \(554 5\.7\.1 fake next hop takes no mail from you\)/ }],
  'ehlo-refused': [{ name: 'EHLO 550', hop: scripted({ ehlo: '550 5.7.1 EHLO refused by fake next hop' }), text: /refused EHLO \(550 5\.7\.1 EHLO refused/ }],
  'starttls-not-offered': [{ name: 'EHLO without STARTTLS, STARTTLS 502', hop: scripted({ starttls: 'not-offered' }), text: /TLS is required, but next hop \S+ does not offer STARTTLS \(502 / }],
  'starttls-refused': [
    { name: 'STARTTLS 454', hop: scripted({ starttls: '454 4.7.0 TLS not available due to temporary reason' }), text: /refused STARTTLS \(454 4\.7\.0/ },
    { name: 'STARTTLS 554', hop: scripted({ starttls: '554 5.7.3 STARTTLS refused' }), text: /refused STARTTLS \(554 5\.7\.3/ },
  ],
  'tls-failed': [
    { name: 'handshake answered with bytes that are not TLS', hop: scripted({ starttls: 'garbage' }), text: /TLS with next hop \S+ failed: / },
    {
      name: 'a certificate no trusted CA signed',
      hop: smtpServer(() => undefined, {}, () => Buffer.from(pki.cert)),
      text: /TLS with next hop \S+ failed: .*(self[- ]signed|unable to verify|issuer)/i,
    },
    {
      name: 'a trusted certificate for another name',
      hop: async () => {
        const leaf = pki.issue('wrong.example');
        const h = await startNextHop({ credentials: leaf });
        return { port: h.port, ca: Buffer.from(pki.cert), close: () => h.close() };
      },
      text: /TLS with next hop \S+ failed: .*(does not match|not in the cert's list)/i,
    },
    {
      name: 'an expired certificate',
      hop: async () => {
        const leaf = pki.issue('localhost', { from: new Date(Date.now() - 10 * 86_400_000), until: new Date(Date.now() - 86_400_000) });
        const h = await startNextHop({ credentials: leaf });
        return { port: h.port, ca: Buffer.from(pki.cert), close: () => h.close() };
      },
      text: /TLS with next hop \S+ failed: .*expired/i,
    },
  ],
  'tenant-attribution': [
    { name: 'RCPT TO 550 5.7.64', hop: scripted({ rcptTo: '550 5.7.64 TenantAttribution; Relay Access Denied' }), text: /does not attribute this relay to the tenant \(550 5\.7\.64 TenantAttribution/ },
    { name: 'MAIL FROM 550 5.7.64', hop: scripted({ mailFrom: '550 5.7.64 TenantAttribution; Relay Access Denied' }), text: /does not attribute this relay to the tenant/ },
  ],
  'mail-from-refused': [{ name: 'MAIL FROM 550', hop: smtpServer((h) => (h.mailFromAnswer = 550)), text: /refused the sender \(MAIL FROM\) \(550 5\.7\.1 sender refused/ }],
  'rcpt-refused': [
    { name: 'the only recipient 550', hop: smtpServer((h) => h.rcptAnswers.set('bob@example.org', 550)), text: /refused recipient\(s\) bob@example\.org/, passed: { code: 550, enhanced: '5.1.1' } },
    {
      name: 'one of two recipients 550',
      hop: smtpServer((h) => h.rcptAnswers.set('gone@example.org', 550)),
      to: ['bob@example.org', 'gone@example.org'],
      text: /refused recipient\(s\) gone@example\.org/,
      passed: { code: 550, enhanced: '5.1.1' },
    },
  ],
  'rcpt-deferred': [
    { name: 'the only recipient 450', hop: smtpServer((h) => h.rcptAnswers.set('bob@example.org', 450)), text: /deferred recipient\(s\) bob@example\.org/ },
    {
      name: 'one recipient 450, another 550',
      hop: smtpServer((h) => {
        h.rcptAnswers.set('later@example.org', 450);
        h.rcptAnswers.set('gone@example.org', 550);
      }),
      to: ['later@example.org', 'gone@example.org', 'bob@example.org'],
      text: /deferred recipient\(s\) later@example\.org, gone@example\.org/,
    },
  ],
  'data-refused': [{ name: 'DATA 554', hop: scripted({ data: '554 5.7.1 DATA refused by fake next hop' }), text: /refused the DATA command \(554 5\.7\.1/ }],
  'message-refused': [{ name: 'end of DATA 554', hop: smtpServer((h) => (h.mode = 'reject')), text: /refused the message: 554 5\.6\.0 fake/, passed: { code: 554, enhanced: '5.6.0' } }],
  deferred: [
    { name: 'greeting 421', hop: scripted({ greeting: '421 4.3.2 fake next hop too busy' }), text: /deferred the message, try again later: 421 4\.3\.2/ },
    { name: 'MAIL FROM 451', hop: smtpServer((h) => (h.mailFromAnswer = 451)), text: /deferred the message, try again later: 451 4\.3\.2 sender refused/ },
    { name: 'end of DATA 451', hop: smtpServer((h) => (h.mode = 'tempfail')), text: /deferred the message, try again later: 451 4\.3\.2 fake next hop busy/ },
  ],
  timeout: [{ name: 'never answers the end of DATA', hop: smtpServer((h) => (h.mode = 'slow')), text: /timed out/ }],
  dropped: [{ name: 'resets the connection in the middle of DATA', hop: smtpServer((h) => (h.mode = 'reset')), text: /Connection to next hop \S+ was lost/ }],
  unclassified: [{ name: 'speaks HTTP instead of SMTP', hop: scripted({ greeting: 'HTTP/1.1 400 Bad Request' }), text: /Local error while relaying/ }],
};

describe('answer classes: every row of ANSWER_CLASSES, against a next hop failing that way', () => {
  it('every row has a case and every case a row', () => {
    assert.deepEqual(Object.keys(CASES).sort(), ANSWER_CLASSES.map((c) => c.id).sort());
    assert.equal(new Set(ANSWER_CLASSES.map((c) => c.id)).size, ANSWER_CLASSES.length);
  });

  it('docs/relay.md shows the table as the code has it', async () => {
    const doc = await readFile(new URL('../../docs/relay.md', import.meta.url), 'utf8');
    assert.ok(doc.includes(answerClassTable()), `docs/relay.md must contain, verbatim:\n${answerClassTable()}`);
  });

  it('only a 5xx to a recipient or to the message itself is passed back as 5xx', () => {
    const passed = ANSWER_CLASSES.filter((c) => c.reply === 'passed').map((c) => c.id);
    assert.deepEqual(passed, ['rcpt-refused', 'message-refused']);
    for (const c of ANSWER_CLASSES) if (c.reply !== 'passed') assert.equal(c.reply.code, 451, c.id);
  });

  for (const row of ANSWER_CLASSES) {
    for (const c of CASES[row.id] ?? []) {
      it(`${row.id}: ${c.name} → ${row.reply === 'passed' ? `${c.passed?.code} ${c.passed?.enhanced}` : `${row.reply.code} ${row.reply.enhanced}`}`, () => playCase(row, c));
    }
  }
});

async function playCase(row: AnswerClass, c: Case): Promise<void> {
  const hop = await c.hop();
  const r = await startTestRelay({ nextHop: { port: hop.port, cert: hop.ca }, deliverTimeoutMs: 1500 });
  try {
    const expected = row.reply === 'passed' ? c.passed! : row.reply;
    assert.ok(expected, `case ${c.name} of a passed-back row names the reply it expects`);
    const res = await send(r.port, { from: 'alice@contoso.com', to: c.to ?? ['bob@example.org'] }, message());
    assert.equal(res.ok, false, `expected a refusal, got ${res.response}`);
    assert.equal(res.code, expected.code, res.response);
    assert.match(res.response ?? '', new RegExp(`^${expected.code} ${expected.enhanced.replace(/\./g, '\\.')} `));
    assert.match(res.response ?? '', c.text);
    const outcome = expected.code < 500 ? 'deferred' : 'rejected';
    assert.match(await r.metrics.registry.metrics(), new RegExp(`sigops_relay_messages_total\\{outcome="${outcome}",reason="${row.reason}",tenant="contoso"\\} 1`));
    if (hop.scripted) {
      // TLS is required: nothing of the transaction ever goes out in clear
      assert.deepEqual(hop.scripted.commands.filter((x) => !x.tls && /^(MAIL|RCPT|DATA)/i.test(x.line)), []);
      assert.equal(hop.scripted.delivered, 0);
    }
  } finally {
    await r.stop();
    await hop.close();
  }
}

describe('answer classes: a next hop that recovers', () => {
  it('STARTTLS missing today, offered tomorrow: 451 first, then delivered (nothing bounced)', async () => {
    const broken = await startScriptedNextHop({ starttls: 'not-offered' });
    const port = broken.port;
    const r = await startTestRelay({ nextHop: { port, cert: broken.cert }, deliverTimeoutMs: 1500 });
    try {
      const first = await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message());
      assert.equal(first.code, 451, first.response);
      await broken.close();
      const fixed = await startNextHop({ port });
      try {
        const again = await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message());
        assert.equal(again.ok, true, again.response);
        assert.equal(fixed.messages.length, 1);
      } finally {
        await fixed.close();
      }
    } finally {
      await r.stop();
    }
  });
});
