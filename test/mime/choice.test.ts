// From a policy decision to the engine's signing choice (src/mime/choice.ts), shared by the
// relay and `sigops sign`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choiceFor, decisionFor } from '../../src/mime/index.ts';
import type { Tenant } from '../../src/model/index.ts';
import type { SigningRequest, TenantPolicy } from '../../src/policy/types.ts';

const REQUEST: SigningRequest = { sender: 'alice@contoso.com', recipients: ['bob@fabrikam.com'], now: new Date(0) };

describe('choiceFor', () => {
  it('signs with the decision\'s blocks, placement and rule', () => {
    const blocks = { html: '<p>s</p>', text: 's' };
    assert.deepEqual(choiceFor({ kind: 'sign', rule: 'default', placement: 'bottom', blocks }), { kind: 'sign', blocks, placement: 'bottom', rule: 'default' });
  });

  it('passes with the reason, and the detail after it when there is one', () => {
    assert.deepEqual(choiceFor({ kind: 'skip', reason: 'no-matching-rule' }), { kind: 'pass', reason: 'no-matching-rule' });
    assert.deepEqual(choiceFor({ kind: 'skip', reason: 'render-failed', detail: 'template x' }), { kind: 'pass', reason: 'render-failed: template x' });
  });
});

describe('decisionFor', () => {
  const tenant = (enabled: boolean, asked: SigningRequest[]): TenantPolicy => ({
    tenant: { slug: 'contoso', domains: ['contoso.com'], enabled } as unknown as Tenant,
    decide(r) {
      asked.push(r);
      return { kind: 'skip', reason: 'no-matching-rule' };
    },
  });

  it('asks an enabled tenant\'s policy', () => {
    const asked: SigningRequest[] = [];
    assert.deepEqual(decisionFor(tenant(true, asked), REQUEST), { kind: 'skip', reason: 'no-matching-rule' });
    assert.deepEqual(asked, [REQUEST]);
  });

  it('a paused tenant is skipped without asking its rules', () => {
    const asked: SigningRequest[] = [];
    assert.deepEqual(decisionFor(tenant(false, asked), REQUEST), { kind: 'skip', reason: 'tenant-paused' });
    assert.equal(asked.length, 0);
  });
});
