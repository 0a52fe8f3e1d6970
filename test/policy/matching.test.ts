// Rule matching and rendering through compilePolicy, on configs built in code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigRepo, DirectoryUser, Rule, RuleConditions, Template, Tenant } from '../../src/model/index.ts';
import { directoryFromData } from '../../src/directory/index.ts';
import { compilePolicy, type SigningDecision } from '../../src/policy/index.ts';

const NOW = new Date('2026-06-15T12:00:00Z');

function rule(name: string, when: Partial<RuleConditions>, extra: Partial<Rule> = {}): Rule {
  return {
    name,
    when: { attributes: {}, recipients: 'any', ...when },
    signature: 'sig',
    placement: 'reply',
    position: { file: 'tenants/contoso.yaml', line: 1, col: 1 },
    ...extra,
  };
}

function repo(rules: Rule[], opts: { users?: Record<string, unknown>[]; templates?: Template[]; enabled?: boolean } = {}): ConfigRepo {
  const tenant: Tenant = {
    slug: 'contoso',
    id: '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10',
    name: 'Contoso Ltd',
    domains: ['contoso.com', 'contoso.co.uk'],
    enabled: opts.enabled ?? true,
    exchange: {
      smartHost: 'relay.example.net', certificateDomain: 'c.relay.example.net',
      deliverTo: { host: 'contoso-com.mail.protection.outlook.com', port: 25 }, senders: { kind: 'all' }, internal: true,
    },
    directory: { source: 'file', file: 'directory/contoso.yaml' },
    rules,
    file: 'tenants/contoso.yaml',
  };
  const templates = new Map<string, Template>();
  for (const t of opts.templates ?? [
    { name: 'sig', html: '<p>{{user.displayName}} ({{user.department}})</p>', htmlFile: 'templates/sig.html.hbs' },
    { name: 'banner', html: '<div>Sale!</div>', htmlFile: 'templates/banner.html.hbs' },
    { name: 'legal', html: '<p>Legal &amp; co</p>', htmlFile: 'templates/legal.html.hbs', text: 'LEGAL', textFile: 'templates/legal.txt.hbs' },
  ]) templates.set(t.name, t);
  const { directory } = directoryFromData({
    users: opts.users ?? [
      { email: 'alice@contoso.com', displayName: 'Alice', department: 'Sales', memberOf: ['Sales@contoso.com'] },
      { email: 'bob@contoso.com', displayName: 'Bob', department: 'Engineering', memberOf: ['eng@contoso.com'] },
    ],
  });
  return { root: '/x', tenants: [tenant], templates, directories: new Map([['contoso', directory]]) };
}

function decide(config: ConfigRepo, sender: string, recipients: string[], now = NOW, from?: { address: string; name?: string }): SigningDecision {
  const t = compilePolicy(config).tenantForDomain(sender.split('@')[1]!);
  assert.ok(t);
  return t.decide({ sender, recipients, now, ...(from ? { from } : {}) });
}

const ruleOf = (d: SigningDecision) => (d.kind === 'sign' ? d.rule : `skip:${d.reason}`);

test('first matching rule wins; no match gives no-matching-rule', () => {
  const c = repo([rule('sales', { attributes: { department: ['sales'] } }), rule('all-a', {}), rule('never', {})]);
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['x@example.org'])), 'sales');
  assert.equal(ruleOf(decide(c, 'bob@contoso.com', ['x@example.org'])), 'all-a');
  const none = repo([rule('sales', { attributes: { department: ['Sales'] } })]);
  assert.equal(ruleOf(decide(none, 'bob@contoso.com', ['x@example.org'])), 'skip:no-matching-rule');
});

test('attributes: list means one of, case-insensitive; every listed attribute must hold', () => {
  const c = repo([rule('r', { attributes: { department: ['Marketing', 'SALES'], displayName: ['alice'] } })]);
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['x@example.org'])), 'r');
  assert.equal(ruleOf(decide(c, 'bob@contoso.com', ['x@example.org'])), 'skip:no-matching-rule');
  // A sender missing from the directory has no department.
  assert.equal(ruleOf(decide(c, 'zoe@contoso.com', ['x@example.org'])), 'skip:no-matching-rule');
});

test('senders and memberOf', () => {
  const c = repo([rule('ceo', { senders: ['bob@contoso.com'] }), rule('sales', { memberOf: ['nobody@contoso.com', 'sales@contoso.com'] })]);
  assert.equal(ruleOf(decide(c, 'BOB@contoso.com', ['x@example.org'])), 'ceo');
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['x@example.org'])), 'sales');
  assert.equal(ruleOf(decide(c, 'zoe@contoso.com', ['x@example.org'])), 'skip:no-matching-rule');
});

test('recipients: internal = all in tenant domains, external = at least one outside, any', () => {
  const c = repo([rule('int', { recipients: 'internal' }), rule('ext', { recipients: 'external' })]);
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['bob@contoso.com', 'c@CONTOSO.CO.UK'])), 'int');
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['bob@contoso.com', 'x@example.org'])), 'ext');
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['x@sub.contoso.com'])), 'ext'); // subdomains are not the tenant's domains
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', [])), 'skip:no-matching-rule');
});

test('recipientDomains: at least one recipient in a listed domain or its subdomains', () => {
  const c = repo([rule('fab', { recipientDomains: ['fabrikam.com'] })]);
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['a@x.org', 'b@eu.Fabrikam.com'])), 'fab');
  assert.equal(ruleOf(decide(c, 'alice@contoso.com', ['a@notfabrikam.com'])), 'skip:no-matching-rule');
});

test('between: whole UTC days, both ends included', () => {
  const c = repo([rule('campaign', { between: { from: '2026-12-01', until: '2027-01-06' } })]);
  const at = (iso: string) => ruleOf(decide(c, 'alice@contoso.com', ['x@example.org'], new Date(iso)));
  assert.equal(at('2026-11-30T23:59:59.999Z'), 'skip:no-matching-rule');
  assert.equal(at('2026-12-01T00:00:00.000Z'), 'campaign');
  assert.equal(at('2027-01-06T23:59:59.999Z'), 'campaign');
  assert.equal(at('2027-01-07T00:00:00.000Z'), 'skip:no-matching-rule');
});

test('paused tenant: skip tenant-paused', () => {
  assert.equal(ruleOf(decide(repo([rule('r', {})], { enabled: false }), 'alice@contoso.com', ['x@example.org'])), 'skip:tenant-paused');
});

test('blocks: signature, then banner, then disclaimer, in HTML and text; placement from the rule', () => {
  const c = repo([rule('r', {}, { banner: 'banner', disclaimer: 'legal', placement: 'bottom' })]);
  const d = decide(c, 'alice@contoso.com', ['x@example.org']);
  assert.deepEqual(d, {
    kind: 'sign', rule: 'r', placement: 'bottom',
    blocks: { html: '<p>Alice (Sales)</p><div>Sale!</div><p>Legal &amp; co</p>', text: 'Alice (Sales)\n\nSale!\n\nLEGAL' },
    senderInDirectory: true,
  });
});

test('a sender missing from the directory gets displayName and email from the From header', () => {
  const c = repo([rule('r', {})], {
    templates: [{ name: 'sig', html: '{{default user.displayName "?"}} <{{user.email}}> [{{user.department}}]', htmlFile: 'x' }],
  });
  const d = decide(c, 'zoe@contoso.com', ['x@example.org'], NOW, { address: 'Zoe@Contoso.com', name: 'Zoë <Z>' });
  assert.equal(d.kind === 'sign' && d.blocks.html, 'Zoë &lt;Z&gt; <zoe@contoso.com> []');
  const bare = decide(c, 'zoe@contoso.com', ['x@example.org']);
  assert.equal(bare.kind === 'sign' && bare.blocks.html, '? <zoe@contoso.com> []');
  assert.equal(bare.kind === 'sign' && bare.senderInDirectory, false);
});

test('hostile directory values are escaped; __proto__ keys in the directory reach nothing', () => {
  const users = JSON.parse(JSON.stringify([
    { email: 'eve@contoso.com', displayName: '"><img src=x onerror=alert(1)>', department: '<script>alert(1)</script>{{constructor}}' },
  ]).replace('"email"', '"__proto__":{"department":"polluted","isAdmin":true},"email"')) as Record<string, unknown>[];
  const c = repo([rule('r', {})], { users });
  const d = decide(c, 'eve@contoso.com', ['x@example.org']);
  assert.equal(d.kind, 'sign');
  assert.equal(d.kind === 'sign' && d.blocks.html,
    '<p>&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; (&lt;script&gt;alert(1)&lt;/script&gt;{{constructor}})</p>');
  assert.equal(d.kind === 'sign' && d.blocks.text, '"><img src=x onerror=alert(1)> (<script>alert(1)</script>{{constructor}})');
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
});

test('a template that fails at render time fails open: skip render-failed with detail', () => {
  const c = repo([rule('r', {}, { signature: 'missing' })]);
  const d = decide(c, 'alice@contoso.com', ['x@example.org']);
  assert.equal(d.kind, 'skip');
  assert.equal(d.kind === 'skip' && d.reason, 'render-failed');
  assert.match(d.kind === 'skip' ? d.detail ?? '' : '', /rule 'r': template 'missing' does not compile/);
  const broken = repo([rule('r', {})], { templates: [{ name: 'sig', html: '{{foo bar}}', htmlFile: 'x' }] });
  assert.equal(ruleOf(decide(broken, 'alice@contoso.com', ['x@example.org'])), 'skip:render-failed');
});

test('the policy is immutable and tenant lookups are case-insensitive', () => {
  const p = compilePolicy(repo([rule('r', {})]));
  assert.ok(Object.isFrozen(p));
  assert.ok(Object.isFrozen(p.tenants));
  assert.ok(Object.isFrozen(p.tenants[0]));
  assert.throws(() => { (p.tenants as unknown as unknown[]).push(1); }, TypeError);
  assert.equal(p.tenantById(' 7C1F3C55-2D3E-4B8A-9F51-0A4E5F2B9C10 '), p.tenants[0]);
  assert.equal(p.tenantForDomain('Contoso.Co.UK'), p.tenants[0]);
  assert.equal(p.tenantForDomain('sub.contoso.com'), undefined);
  assert.equal(p.tenantById('00000000-0000-0000-0000-000000000000'), undefined);
});

test('users are found by the From address when the envelope sender is not in the directory', () => {
  const c = repo([rule('sales', { attributes: { department: ['Sales'] } })]);
  const d = decide(c, 'bounces+123@contoso.com', ['x@example.org'], NOW, { address: 'alice@contoso.com' });
  assert.equal(ruleOf(d), 'sales');
  const u: DirectoryUser | undefined = c.directories.get('contoso')?.users.get('alice@contoso.com');
  assert.deepEqual(u?.memberOf, ['sales@contoso.com']);
});

test('rendered decisions are reused per sender and UTC day, never across users, names or days', () => {
  const c = repo([rule('r', {})], {
    templates: [{ name: 'sig', html: '{{default user.displayName user.email}} {{date "YYYY-MM-DD"}} {{user.department}}', htmlFile: 'x' }],
  });
  const t = compilePolicy(c).tenants[0]!;
  const html = (sender: string, iso: string, name?: string) => {
    const d = t.decide({ sender, recipients: ['x@example.org'], now: new Date(iso), ...(name ? { from: { address: sender, name } } : {}) });
    return d.kind === 'sign' ? d.blocks.html : d.reason;
  };
  assert.equal(html('alice@contoso.com', '2026-12-31T23:59:59Z'), 'Alice 2026-12-31 Sales');
  assert.equal(html('alice@contoso.com', '2026-12-31T08:00:00Z'), 'Alice 2026-12-31 Sales');
  assert.equal(html('alice@contoso.com', '2027-01-01T00:00:00Z'), 'Alice 2027-01-01 Sales');
  assert.equal(html('bob@contoso.com', '2027-01-01T00:00:01Z'), 'Bob 2027-01-01 Engineering');
  assert.equal(html('zoe@contoso.com', '2027-01-01T00:00:01Z', 'Zoe One'), 'Zoe One 2027-01-01 ');
  assert.equal(html('zoe@contoso.com', '2027-01-01T00:00:02Z', 'Zoe Two'), 'Zoe Two 2027-01-01 ');
  assert.equal(html('zoe@contoso.com', '2027-01-01T00:00:03Z'), 'zoe@contoso.com 2027-01-01 ');
  const a = t.decide({ sender: 'alice@contoso.com', recipients: ['x@example.org'], now: new Date('2027-01-01T10:00:00Z') });
  assert.ok(Object.isFrozen(a));
  assert.ok(a.kind === 'sign' && Object.isFrozen(a.blocks));
});
