// Whom the relay signs a message for, end to end (SMTP in, the next hop's copy out) with a policy
// compiled from a config built in code: an alias and a second-domain address sign as their user;
// sent as a shared mailbox (From and envelope the mailbox, no Sender) signs with the mailbox's
// entry; sent on behalf (From the mailbox, Sender the delegate) signs with the delegate's, and a
// `sentAs` rule sees which; replies and forwards get the short signature of a `messageType` rule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigRepo, Rule, RuleConditions, Template, Tenant } from '../../src/model/index.ts';
import { directoryFromData } from '../../src/directory/index.ts';
import { compilePolicy, type Policy } from '../../src/policy/index.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { CONTOSO, decodeQp, message, replyMessage, send, startTestRelay, tenant, type TestRelay } from './helpers.ts';

function rule(name: string, signature: string, when: RuleConditions = {}): Rule {
  return { name, when, signature, placement: 'reply', position: { file: 'tenants/contoso.yaml', line: 1, col: 1 } };
}

const TEMPLATES: Template[] = [
  { name: 'full', html: '<p>FULL {{user.displayName}} / {{user.email}}</p>', htmlFile: 'templates/full.html.hbs' },
  { name: 'short', html: '<p>SHORT {{user.displayName}}</p>', htmlFile: 'templates/short.html.hbs' },
  { name: 'team', html: '<p>TEAM {{user.displayName}}</p>', htmlFile: 'templates/team.html.hbs' },
  { name: 'delegate', html: '<p>DELEGATE {{user.displayName}}</p>', htmlFile: 'templates/delegate.html.hbs' },
];

function policy(rules: Rule[]): Policy {
  const t: Tenant = { ...tenant('contoso', CONTOSO, ['contoso.com', 'contoso.co.uk']), rules };
  const { directory } = directoryFromData({
    users: [
      { email: 'alice@contoso.com', aliases: ['a.smith@contoso.co.uk', 'sales@contoso.com'], displayName: 'Alice Example' },
      { email: 'support@contoso.com', displayName: 'Contoso Support', mailboxType: 'shared' },
    ],
  });
  const repo: ConfigRepo = { root: '/config', tenants: [t], templates: new Map(TEMPLATES.map((x) => [x.name, x])), directories: new Map([['contoso', directory]]) };
  return compilePolicy(repo);
}

describe('relay: whom a message is signed for, and its type', () => {
  let hop: NextHop;
  let relay: TestRelay;
  before(async () => {
    hop = await startNextHop();
    relay = await startTestRelay({
      nextHop: hop,
      policy: policy([
        rule('replies', 'short', { messageType: ['reply', 'forward'] }),
        rule('delegated', 'delegate', { sentAs: ['onBehalf'] }),
        rule('team', 'team', { sentAs: ['shared'] }),
        rule('default', 'full'),
      ]),
    });
  });
  after(async () => {
    await relay.stop();
    await hop.close();
  });

  /** Sends with this envelope sender and message; the signature line the next hop received. */
  async function signature(envelopeFrom: string, raw: string): Promise<string> {
    const n = hop.messages.length;
    const res = await send(relay.port, { from: envelopeFrom, to: ['bob@example.org'] }, raw);
    assert.equal(res.ok, true, res.response);
    assert.equal(hop.messages.length, n + 1);
    const text = decodeQp(hop.messages.at(-1)!.raw.toString('utf8'));
    return /(FULL|SHORT|TEAM|DELEGATE) [^<\r\n]*/.exec(text)?.[0]?.trim() ?? 'unsigned';
  }

  it('an alias and a second-domain address sign as their user', async () => {
    assert.equal(await signature('a.smith@contoso.co.uk', message({ from: 'a.smith@contoso.co.uk' })), 'FULL Alice Example / alice@contoso.com');
    assert.equal(await signature('sales@contoso.com', message({ from: 'sales@contoso.com' })), 'FULL Alice Example / alice@contoso.com');
  });

  it('sent as a shared mailbox: the mailbox signs', async () => {
    assert.equal(await signature('support@contoso.com', message({ from: 'support@contoso.com' })), 'TEAM Contoso Support');
  });

  it('sent on behalf of a shared mailbox: the delegate (Sender) signs, whichever address the envelope has', async () => {
    const onBehalf = message({ from: 'support@contoso.com', extra: ['Sender: Alice Example <alice@contoso.com>'] });
    assert.equal(await signature('alice@contoso.com', onBehalf), 'DELEGATE Alice Example');
    assert.equal(await signature('support@contoso.com', onBehalf), 'DELEGATE Alice Example');
  });

  it('replies and forwards get the short signature, new mail the full one', async () => {
    assert.equal(await signature('alice@contoso.com', replyMessage()), 'SHORT Alice Example'); // Re: and In-Reply-To
    assert.equal(await signature('alice@contoso.com', message({ subject: 'WG: Quarterly numbers' })), 'SHORT Alice Example');
    assert.equal(await signature('alice@contoso.com', message({ subject: '=?UTF-8?B?6L2s5Y+ROiDlraPluqY=?=' })), 'SHORT Alice Example'); // 转发: 季度
    assert.equal(await signature('alice@contoso.com', message({ subject: 'Hello', extra: ['References: <1@example.org>'] })), 'SHORT Alice Example');
    assert.equal(await signature('alice@contoso.com', message({ subject: 'Quarterly numbers' })), 'FULL Alice Example / alice@contoso.com');
  });
});
