// The offline chooser behind `sigops sign`: envelope defaults from the headers, the tenant that
// owns the sender's domain, and what decide() says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderBlock, parseHeaderFields } from '../../src/mime/headers.ts';
import { SigopsError } from '../../src/errors/index.ts';
import { NoTenantError, offlineChooser, type ChooserState } from '../../src/mime/index.ts';
import type { Policy, SigningRequest, TenantPolicy } from '../../src/policy/types.ts';
import { senderDomain, type Tenant } from '../../src/model/index.ts';

function fakePolicy(enabled = true): { policy: Policy; requests: SigningRequest[] } {
  const requests: SigningRequest[] = [];
  const tenant = { slug: 'contoso', domains: ['contoso.com'], enabled } as unknown as Tenant;
  const tp: TenantPolicy = {
    tenant,
    decide(r) {
      requests.push(r);
      return r.recipients.includes('nobody@x.org')
        ? { kind: 'skip', reason: 'no-matching-rule' }
        : { kind: 'sign', rule: 'default', placement: 'reply', blocks: { html: '<p>s</p>', text: 's' } };
    },
  };
  return {
    requests,
    policy: {
      tenants: [tp],
      tenantById: () => undefined,
      tenantForDomain: (d) => (d === 'contoso.com' ? tp : undefined),
      tenantForSender: (a) => (senderDomain(a) === 'contoso.com' ? tp : undefined),
    },
  };
}

const headers = (s: string): HeaderBlock => new HeaderBlock(parseHeaderFields(Buffer.from(s)));
const H = headers('From: "Example, Alice" <Alice@Contoso.com>\r\nTo: Bob <bob@fabrikam.com>, carol@x.org\r\nCc: dave@y.org\r\nSubject: hi\r\n');

describe('offlineChooser', () => {
  it('takes the envelope from From and To/Cc, and the tenant from the sender domain', () => {
    const { policy, requests } = fakePolicy();
    const state: ChooserState = { recipients: [] };
    const choice = offlineChooser(policy, { now: new Date(0) }, state)(H);
    assert.deepEqual(choice, { kind: 'sign', blocks: { html: '<p>s</p>', text: 's' }, placement: 'reply', rule: 'default' });
    assert.equal(requests[0]!.sender, 'alice@contoso.com');
    assert.deepEqual(requests[0]!.recipients, ['bob@fabrikam.com', 'carol@x.org', 'dave@y.org']);
    assert.deepEqual(requests[0]!.from, { address: 'alice@contoso.com', name: 'Example, Alice' });
    assert.equal(state.tenant?.tenant.slug, 'contoso');
  });

  it('passes the Sender header and the message type on to the policy', () => {
    const { policy, requests } = fakePolicy();
    offlineChooser(policy, { now: new Date(0) })(headers('From: Support <support@contoso.com>\r\nSender: Alice <alice@contoso.com>\r\nTo: bob@x.org\r\nSubject: AW: hi\r\n'));
    assert.deepEqual(requests[0]!.senderHeader, { address: 'alice@contoso.com', name: 'Alice' });
    assert.equal(requests[0]!.messageType, 'reply');
    offlineChooser(policy, { now: new Date(0) })(H);
    assert.equal(requests[1]!.senderHeader, undefined);
    assert.equal(requests[1]!.messageType, 'new');
  });

  it('--from/--to override the headers (display names accepted)', () => {
    const { policy, requests } = fakePolicy();
    offlineChooser(policy, { sender: 'Bob <BOB@contoso.com>', recipients: ['nobody@x.org'] })(H);
    assert.equal(requests[0]!.sender, 'bob@contoso.com');
    assert.deepEqual(requests[0]!.recipients, ['nobody@x.org']);
  });

  it('passes with the policy reason, and a paused tenant passes without deciding', () => {
    const { policy } = fakePolicy();
    assert.deepEqual(offlineChooser(policy, { recipients: ['nobody@x.org'] })(H), { kind: 'pass', reason: 'no-matching-rule' });
    const paused = fakePolicy(false);
    assert.deepEqual(offlineChooser(paused.policy, {})(H), { kind: 'pass', reason: 'tenant-paused' });
    assert.equal(paused.requests.length, 0);
  });

  it('throws NoTenantError for a foreign or missing sender', () => {
    const { policy } = fakePolicy();
    assert.throws(() => offlineChooser(policy, { sender: 'x@gmail.com' })(H), (e) => e instanceof NoTenantError && /gmail\.com/.test(e.message) && /contoso\.com/.test(e.message));
    assert.throws(() => offlineChooser(policy, {})(headers('Subject: none\r\n')), NoTenantError);
  });

  it('NoTenantError is a SigopsError with code no-tenant and advice', () => {
    const { policy } = fakePolicy();
    assert.throws(
      () => offlineChooser(policy, { sender: 'x@gmail.com' })(H),
      (e) => e instanceof SigopsError && e.code === 'no-tenant' && /--from/.test(e.advice) && e.name === 'NoTenantError',
    );
  });
});
