// New, reply or forward, from what the header block shows: subject prefixes in the major
// languages, In-Reply-To/References, and their precedence; RFC 2047 subjects; the header facts
// the relay and `sigops sign` pass to the policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderBlock, parseHeaderFields } from '../../src/mime/headers.ts';
import { decodeEncodedWords, headerFacts } from '../../src/mime/message-facts.ts';
import { messageTypeOf, subjectPrefix } from '../../src/policy/message-type.ts';

const headers = (lines: string[]): HeaderBlock => new HeaderBlock(parseHeaderFields(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)));

test('reply prefixes clients write, by language', () => {
  const replies: Record<string, string[]> = {
    'English, Latin (Gmail, Apple Mail, Outlook)': ['Re: x', 'RE: x', 're: x', 'Re[2]: x', 'Re^3: x', 'RE (2): x', 'RE : x'],
    German: ['AW: x', 'Aw: x'],
    'Swedish, Danish, Norwegian': ['SV: x'],
    Dutch: ['Antw: x'],
    French: ['Réf. : x'.replace('. ', ' '), 'RE : x', 'Réf: x', 'REF: x'],
    Italian: ['R: x', 'RIF: x'],
    'Portuguese (Brazil)': ['RES: x'],
    'Polish, Czech': ['Odp: x', 'ODP: x'],
    Croatian: ['Odg: x'],
    Turkish: ['YNT: x', 'Ynt: x'],
    Greek: ['ΑΠ: x', 'ΣΧΕΤ: x'],
    'Russian, Ukrainian': ['Отв: x', 'Ответ: x', 'Відп: x'],
    Hebrew: ['השב: x'],
    Arabic: ['رد: x'],
    Chinese: ['回复: x', '答复: x', '回覆：x', '答覆: x'],
    Japanese: ['返信: x'],
    Korean: ['회신: x', '답장: x'],
    Indonesian: ['BLS: x'],
  };
  for (const [language, subjects] of Object.entries(replies)) {
    for (const s of subjects) assert.equal(subjectPrefix(s), 'reply', `${language}: ${s}`);
  }
});

test('forward prefixes clients write, by language', () => {
  const forwards: Record<string, string[]> = {
    English: ['Fwd: x', 'FW: x', 'Fw: x', 'FWD: x', '[Fwd: x]'],
    German: ['WG: x'],
    French: ['TR: x', 'TR : x'],
    Spanish: ['RV: x'],
    Italian: ['I: x'],
    'Portuguese (Brazil)': ['ENC: x'],
    Dutch: ['Doorst: x'],
    Swedish: ['VB: x'],
    'Danish, Norwegian': ['VS: x'],
    Finnish: ['VL: x'],
    Icelandic: ['FS: x'],
    Polish: ['PD: x'],
    Czech: ['PŘ: x'],
    Hungarian: ['TOV: x'],
    Turkish: ['İLT: x', 'ILT: x'],
    Greek: ['ΠΡΘ: x'],
    Russian: ['Пересл: x'],
    Hebrew: ['הועבר: x'],
    Arabic: ['إعادة توجيه: x'],
    Chinese: ['转发: x', '轉寄：x', '轉發: x'],
    Japanese: ['転送: x'],
    Korean: ['전달: x'],
  };
  for (const [language, subjects] of Object.entries(forwards)) {
    for (const s of subjects) assert.equal(subjectPrefix(s), 'forward', `${language}: ${s}`);
  }
});

test('the first prefix decides; list tags are skipped; ordinary subjects carry none', () => {
  assert.equal(subjectPrefix('Re: Fwd: x'), 'reply');
  assert.equal(subjectPrefix('Fwd: Re: x'), 'forward');
  assert.equal(subjectPrefix('AW: WG: x'), 'reply');
  assert.equal(subjectPrefix('[team] Re: x'), 'reply');
  assert.equal(subjectPrefix('  [ext] [team] WG: x'), 'forward');
  for (const s of ['Meeting: Monday', 'Report Q3', 'Re x', 'Regarding: budget', 'Fwding: x', 'Note: re: x', 'Ticket #12: Re: x', 'INFO: x', '', 'RE']) {
    assert.equal(subjectPrefix(s), undefined, s);
  }
  assert.equal(subjectPrefix(undefined), undefined);
});

test('precedence: subject prefix, then In-Reply-To/References, then new', () => {
  assert.equal(messageTypeOf({}), 'new');
  assert.equal(messageTypeOf({ subject: 'Hello' }), 'new');
  assert.equal(messageTypeOf({ subject: 'Hello', inReplyTo: '<a@b>' }), 'reply'); // subject edited, still a reply
  assert.equal(messageTypeOf({ subject: 'Hello', references: '<a@b> <c@d>' }), 'reply');
  assert.equal(messageTypeOf({ subject: 'Hello', inReplyTo: '  ', references: '' }), 'new'); // empty fields say nothing
  assert.equal(messageTypeOf({ subject: 'Re: Hello' }), 'reply'); // a prefix alone suffices
  assert.equal(messageTypeOf({ subject: 'Fwd: Hello' }), 'forward');
  // clients thread forwards too: a forward prefix wins over threading headers
  assert.equal(messageTypeOf({ subject: 'FW: Hello', inReplyTo: '<a@b>', references: '<a@b>' }), 'forward');
  assert.equal(messageTypeOf({ subject: 'Re: FW: Hello', inReplyTo: '<a@b>' }), 'reply');
});

test('RFC 2047 subjects are decoded before their prefix is read', () => {
  assert.equal(decodeEncodedWords('=?UTF-8?B?5Zue5aSNOiDkvaDlpb0=?='), '回复: 你好');
  assert.equal(decodeEncodedWords('=?iso-8859-1?Q?R=E9f=2E_:_x?='), 'Réf. : x');
  assert.equal(decodeEncodedWords('=?UTF-8?Q?=C4=B0LT:?= =?UTF-8?Q?_x?='), 'İLT: x'); // whitespace between words dropped
  assert.equal(decodeEncodedWords('=?x-unknown?B?AAAA?= plain'), '=?x-unknown?B?AAAA?= plain');
  assert.equal(decodeEncodedWords('no words'), 'no words');
  assert.equal(headerFacts(headers(['Subject: =?UTF-8?B?6L2s5Y+ROiDkvaDlpb0=?='])).messageType, 'forward'); // 转发: 你好
  assert.equal(headerFacts(headers(['Subject: =?ISO-2022-JP?B?GyRCSlY/LhsoQjogeA==?='])).messageType, 'reply'); // 返信: x
});

test('header facts: From, a Sender, the message type', () => {
  const f = headerFacts(headers([
    'From: Support <Support@contoso.com>',
    'Sender: Alice <alice@contoso.com>',
    'Subject: Hello',
    'In-Reply-To: <1@contoso.com>',
  ]));
  assert.deepEqual(f, { from: { address: 'support@contoso.com', name: 'Support' }, senderHeader: { address: 'alice@contoso.com', name: 'Alice' }, messageType: 'reply' });
  const plain = headerFacts(headers(['From: bob@contoso.com', 'Subject: Hi']));
  assert.deepEqual(plain, { from: { address: 'bob@contoso.com' }, senderHeader: undefined, messageType: 'new' });
});
