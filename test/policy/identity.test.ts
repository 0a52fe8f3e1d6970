// Whom a message is signed for: a user's aliases and second-domain addresses find the user; sent
// as a shared mailbox (From, no Sender) signs with the shared mailbox's entry; sent on behalf
// (From: the principal, Sender: the delegate) signs with the delegate's; the `sentAs` and
// `messageType` conditions see what decide() worked out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigRepo, Rule, RuleConditions, Template, Tenant } from '../../src/model/index.ts';
import { directoryFromData } from '../../src/directory/index.ts';
import { compilePolicy, type SigningDecision, type SigningRequest } from '../../src/policy/index.ts';

const NOW = new Date('2026-06-15T12:00:00Z');

function rule(name: string, when: RuleConditions = {}): Rule {
  return { name, when, signature: 'sig', placement: 'reply', position: { file: 'tenants/contoso.yaml', line: 1, col: 1 } };
}

function policy(rules: Rule[]) {
  const tenant: Tenant = {
    slug: 'contoso', id: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10', name: 'Contoso Ltd', domains: ['contoso.com', 'contoso.co.uk'], enabled: true,
    exchange: {
      smartHost: 'relay.example.net', certificateDomain: 'c.relay.example.net',
      deliverTo: { host: 'contoso-com.mail.protection.outlook.com', port: 25 }, senders: { kind: 'all' }, internal: true,
    },
    directory: { source: 'file', file: 'directory/contoso.yaml' }, rules, file: 'tenants/contoso.yaml',
  };
  const templates = new Map<string, Template>([['sig', { name: 'sig', html: '<p>{{user.displayName}} {{user.email}}</p>', htmlFile: 'templates/sig.html.hbs' }]]);
  const { directory } = directoryFromData({
    users: [
      { email: 'alice@contoso.com', aliases: ['a.smith@contoso.co.uk', 'sales-alice@contoso.com'], displayName: 'Alice', memberOf: [] },
      { email: 'bob@contoso.com', displayName: 'Bob', memberOf: [] },
      { email: 'support@contoso.com', aliases: ['help@contoso.co.uk'], displayName: 'Contoso Support', mailboxType: 'shared', memberOf: [] },
      { email: 'room1@contoso.com', displayName: 'Room 1', mailboxType: 'room', memberOf: [] },
    ],
  });
  const config: ConfigRepo = { root: '/x', tenants: [tenant], templates, directories: new Map([['contoso', directory]]) };
  return compilePolicy(config).tenants[0]!;
}

function signedFor(d: SigningDecision): string {
  return d.kind === 'sign' ? `${d.rule}: ${d.blocks.html}` : `skip:${d.reason}`;
}

const request = (r: Partial<SigningRequest> & { sender: string }): SigningRequest => ({ recipients: ['x@example.org'], now: NOW, ...r });

test('an alias or a second-domain address signs as its user', () => {
  const tp = policy([rule('r')]);
  for (const address of ['a.smith@contoso.co.uk', 'sales-alice@contoso.com', 'A.Smith@Contoso.co.uk']) {
    assert.equal(signedFor(tp.decide(request({ sender: address.toLowerCase(), from: { address: address.toLowerCase(), name: 'Whatever' } }))), 'r: <p>Alice alice@contoso.com</p>', address);
  }
});

test('sent as a shared mailbox: its own entry signs (From and envelope are the mailbox)', () => {
  const tp = policy([rule('r')]);
  assert.equal(signedFor(tp.decide(request({ sender: 'support@contoso.com', from: { address: 'support@contoso.com' } }))), 'r: <p>Contoso Support support@contoso.com</p>');
  // its alias too; and From decides even if the envelope names the person who sent it
  assert.equal(signedFor(tp.decide(request({ sender: 'help@contoso.co.uk', from: { address: 'help@contoso.co.uk' } }))), 'r: <p>Contoso Support support@contoso.com</p>');
  assert.equal(signedFor(tp.decide(request({ sender: 'alice@contoso.com', from: { address: 'support@contoso.com' } }))), 'r: <p>Contoso Support support@contoso.com</p>');
});

test('sent on behalf: the delegate in Sender signs, whatever the envelope', () => {
  const tp = policy([rule('r')]);
  const onBehalf = { from: { address: 'support@contoso.com', name: 'Contoso Support' }, senderHeader: { address: 'alice@contoso.com', name: 'Alice' } };
  assert.equal(signedFor(tp.decide(request({ sender: 'alice@contoso.com', ...onBehalf }))), 'r: <p>Alice alice@contoso.com</p>');
  assert.equal(signedFor(tp.decide(request({ sender: 'support@contoso.com', ...onBehalf }))), 'r: <p>Alice alice@contoso.com</p>');
  // a delegate's alias finds the delegate; on behalf of a user mailbox (an assistant) as well
  assert.equal(signedFor(tp.decide(request({ sender: 'bob@contoso.com', from: { address: 'bob@contoso.com' }, senderHeader: { address: 'a.smith@contoso.co.uk' } }))), 'r: <p>Alice alice@contoso.com</p>');
});

test('a Sender that is not a delegate changes nothing', () => {
  const tp = policy([rule('r')]);
  // the same mailbox (another of its addresses), or an address outside the directory
  assert.equal(signedFor(tp.decide(request({ sender: 'alice@contoso.com', from: { address: 'alice@contoso.com' }, senderHeader: { address: 'a.smith@contoso.co.uk' } }))), 'r: <p>Alice alice@contoso.com</p>');
  assert.equal(signedFor(tp.decide(request({ sender: 'support@contoso.com', from: { address: 'support@contoso.com' }, senderHeader: { address: 'bot@elsewhere.example' } }))), 'r: <p>Contoso Support support@contoso.com</p>');
});

test('the envelope sender is the fallback when From is not in the directory', () => {
  const tp = policy([rule('r')]);
  assert.equal(signedFor(tp.decide(request({ sender: 'bob@contoso.com', from: { address: 'newsletter@contoso.com', name: 'News' } }))), 'r: <p>Bob bob@contoso.com</p>');
  assert.equal(signedFor(tp.decide(request({ sender: 'bob@contoso.com' }))), 'r: <p>Bob bob@contoso.com</p>');
});

test('sentAs: self, shared (shared, room, equipment mailboxes), onBehalf, as rules see them', () => {
  const tp = policy([
    rule('delegated', { sentAs: ['onBehalf'] }),
    rule('team', { sentAs: ['shared'] }),
    rule('own', { sentAs: ['self'] }),
  ]);
  const ruleOf = (r: Partial<SigningRequest> & { sender: string }) => { const d = tp.decide(request(r)); return d.kind === 'sign' ? d.rule : d.reason; };
  assert.equal(ruleOf({ sender: 'alice@contoso.com', from: { address: 'a.smith@contoso.co.uk' } }), 'own');
  assert.equal(ruleOf({ sender: 'support@contoso.com', from: { address: 'support@contoso.com' } }), 'team');
  assert.equal(ruleOf({ sender: 'room1@contoso.com', from: { address: 'room1@contoso.com' } }), 'team');
  assert.equal(ruleOf({ sender: 'alice@contoso.com', from: { address: 'support@contoso.com' }, senderHeader: { address: 'alice@contoso.com' } }), 'delegated');
  assert.equal(ruleOf({ sender: 'nobody@contoso.com', from: { address: 'nobody@contoso.com' } }), 'own'); // not in the directory: as itself
});

test('messageType: the request\'s type, new when absent', () => {
  const tp = policy([rule('short', { messageType: ['reply', 'forward'] }), rule('full', { messageType: ['new'] })]);
  const ruleOf = (messageType?: SigningRequest['messageType']) => {
    const d = tp.decide(request({ sender: 'alice@contoso.com', ...(messageType ? { messageType } : {}) }));
    return d.kind === 'sign' ? d.rule : d.reason;
  };
  assert.equal(ruleOf(), 'full');
  assert.equal(ruleOf('new'), 'full');
  assert.equal(ruleOf('reply'), 'short');
  assert.equal(ruleOf('forward'), 'short');
});
