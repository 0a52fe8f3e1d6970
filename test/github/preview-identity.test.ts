// The Action's preview for rules on the message type and on how a message is sent: the sample
// message is a reply or forward when the rule asks, sent as a shared mailbox or on behalf of one,
// and the comment says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigRepo } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { previewRules, renderPreviews } from '../../src/github/preview.ts';
import { exampleWithRule } from '../policy/conditions/yaml.ts';

const NOW = new Date('2026-06-15T08:00:00Z');

test('a reply rule previews a reply; a shared-mailbox rule a shared mailbox; an on-behalf rule a delegate', async () => {
  const { dir } = exampleWithRule('short-replies', ['messageType: [reply, forward]'], 'standard');
  try {
    // one shared mailbox in the example directory, and two more rules on how mail is sent
    appendFileSync(join(dir, 'directory', 'contoso.yaml'), '  - email: support@contoso.com\n    displayName: Contoso Support\n    mailboxType: shared\n    memberOf: [signatures@contoso.com]\n');
    const tenantFile = join(dir, 'tenants', 'contoso.yaml');
    writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('  - name: short-replies\n',
      '  - name: team\n    when:\n      sentAs: shared\n    signature: standard\n  - name: delegated\n    when:\n      sentAs: [onBehalf]\n    signature: executive\n  - name: short-replies\n'));
    const r = await loadConfigRepo(dir);
    assert.deepEqual(r.ok ? [] : r.errors, []);
    assert.ok(r.ok);
    const previews = previewRules(r.config, compilePolicy(r.config), [
      { tenant: 'contoso', rule: 'short-replies', why: 'new rule' },
      { tenant: 'contoso', rule: 'team', why: 'new rule' },
      { tenant: 'contoso', rule: 'delegated', why: 'new rule' },
      { tenant: 'contoso', rule: 'default', why: 'rule changed' },
    ], NOW);
    const [reply, team, delegated, fallback] = previews;
    assert.ok(reply?.blocks, reply?.note);
    assert.equal(reply.messageType, 'reply');
    assert.equal(reply.sample?.email, 'alice@contoso.com'); // a person, not the shared mailbox
    assert.ok(team?.blocks, team?.note);
    assert.equal(team.sample?.email, 'support@contoso.com');
    assert.match(team.blocks.text, /Contoso Support/);
    assert.ok(delegated?.blocks, delegated?.note);
    assert.equal(delegated.onBehalfOf, 'support@contoso.com');
    assert.equal(delegated.sample?.email, 'alice@contoso.com');
    assert.match(delegated.blocks.text, /Alice/);
    // default: a new message from a person; the earlier rules take replies, shared mailboxes and delegates
    assert.ok(fallback?.blocks, fallback?.note);
    assert.equal(fallback.messageType, undefined);
    const md = renderPreviews(previews);
    assert.match(md, /Alice Example \\<alice@contoso\.com\\> → recipient@example\.net on 2026-06-15, a reply/);
    assert.match(md, /\\<alice@contoso\.com\\> on behalf of \\<support@contoso\.com\\> → /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
