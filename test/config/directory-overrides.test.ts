// Aliases and overrides as the loader reads them: an address claimed by two users is an error
// with both positions, overrides win per attribute and are schema-checked, an override for
// nobody is a warning with its position, and a graph tenant's template using an attribute the
// sync never writes is a warning. Also: mail from an alias gets its user's signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigRepo, loadValidConfig } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/index.ts';
import { decodeQp, message, send, startTestRelay } from '../relay/helpers.ts';
import { startNextHop } from '../fakes/next-hop.ts';

const TENANT = readFileSync(resolve('test/fixtures/configs/directory-missing/tenants/acme.yaml'), 'utf8');

/** A scratch config: tenant acme (domains acme.example, acme.co.uk), template basic, the files given. */
function scratch(files: Record<string, string>, tenant = TENANT.replace('[acme.example]', '[acme.example, acme.co.uk]')): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-overrides-'));
  cpSync(resolve('test/fixtures/configs/directory-missing'), dir, { recursive: true });
  rmSync(join(dir, 'expected.txt'));
  mkdirSync(join(dir, 'directory'), { recursive: true });
  writeFileSync(join(dir, 'tenants', 'acme.yaml'), tenant);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const diagnostics = (list: readonly { file: string; line: number; col: number; code: string }[]) => list.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);

test('an address claimed by two users (email or alias) is an error with both positions', async () => {
  const dir = scratch({
    'directory/acme.yaml': [
      'users:',
      '  - email: ann@acme.example',
      '    aliases: [a.nn@acme.co.uk, team@acme.example]',
      '  - email: bo@acme.example',
      '    aliases: [team@acme.example, ANN@acme.example]',
      '  - email: a.nn@acme.co.uk',
      '',
    ].join('\n'),
  });
  try {
    const r = await loadConfigRepo(dir);
    assert.ok(!r.ok);
    assert.deepEqual(diagnostics(r.errors), [
      'directory/acme.yaml:3:15 duplicate-address', // a.nn@ is the third user's email
      'directory/acme.yaml:5:15 duplicate-address', // team@ is already ann's alias
      'directory/acme.yaml:5:34 duplicate-address', // ann@ is ann's email
    ]);
    assert.match(r.errors[0]!.message, /address a\.nn@acme\.co\.uk already belongs to a\.nn@acme\.co\.uk \(its email, at line 6\)/);
    assert.match(r.errors[1]!.message, /address team@acme\.example already belongs to ann@acme\.example \(an alias, at line 3\)/);
    assert.match(r.errors[2]!.message, /address ann@acme\.example already belongs to ann@acme\.example \(its email, at line 2\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('aliases find their user in one lookup; an alias outside the tenant\'s domains is a warning', async () => {
  const dir = scratch({ 'directory/acme.yaml': 'users:\n  - email: ann@acme.example\n    aliases: [A.Nn@Acme.co.uk, ann@elsewhere.example]\n    displayName: Ann\n' });
  try {
    const r = await loadConfigRepo(dir);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(diagnostics(r.warnings), ['directory/acme.yaml:3:32 user-outside-domains']);
    const d = r.config.directories.get('acme')!;
    assert.equal(d.users.size, 1, 'one user, however many addresses');
    assert.equal(d.addresses?.get('a.nn@acme.co.uk'), d.users.get('ann@acme.example'));
    assert.deepEqual(d.users.get('ann@acme.example')?.aliases, ['a.nn@acme.co.uk', 'ann@elsewhere.example']);
    // The policy: a sender (envelope or From) that is an alias gets the user's attributes.
    const policy = compilePolicy(r.config);
    const decision = policy.tenantForSender('a.nn@acme.co.uk')!.decide({ sender: 'A.Nn@Acme.co.uk', recipients: ['x@example.org'], now: new Date('2026-11-20T10:00:00Z') });
    assert.equal(decision.kind, 'sign');
    assert.ok(decision.kind === 'sign' && decision.senderInDirectory);
    assert.match(decision.kind === 'sign' ? decision.blocks.html : '', /<p>Ann<\/p>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overrides: merged over the directory, override wins per attribute, a user named by an alias; unknown users warned with position', async () => {
  const dir = scratch({
    'directory/acme.yaml': 'users:\n  - email: ann@acme.example\n    aliases: [a.nn@acme.co.uk]\n    displayName: Ann Wrong\n    jobTitle: Engineer\n  - email: bo@acme.example\n',
    'directory/acme.overrides.yaml': [
      '# hand-edited',
      'users:',
      '  - email: a.nn@acme.co.uk',
      '    displayName: Ann Right',
      '    pronouns: she/her',
      '    bookingUrl: https://book.acme.example/ann',
      '  - email: left.long.ago@acme.example',
      '    pronouns: he/him',
      '  - email: bo@acme.example',
      '    aliases: [bo@elsewhere.example]',
      '',
    ].join('\n'),
  });
  try {
    const r = await loadConfigRepo(dir);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(diagnostics(r.warnings), [
      'directory/acme.overrides.yaml:7:12 override-unknown-user',
      'directory/acme.overrides.yaml:10:15 user-outside-domains', // an alias the overrides gave: reported there
    ]);
    assert.match(r.warnings[0]!.message, /left\.long\.ago@acme\.example is no user's address in directory\/acme\.yaml/);
    const ann = r.config.directories.get('acme')!.users.get('ann@acme.example')!;
    assert.equal(ann.attributes.displayName, 'Ann Right', 'the override wins');
    assert.equal(ann.attributes.jobTitle, 'Engineer', 'attributes it does not name stay');
    assert.equal(ann.attributes.pronouns, 'she/her');
    assert.equal(ann.attributes.bookingUrl, 'https://book.acme.example/ann');
    assert.equal(ann.email, 'ann@acme.example', 'the primary address stays');
    assert.deepEqual(ann.aliases, ['a.nn@acme.co.uk']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overrides are checked by the directory schema; repeated entries, conflicting aliases and a missing named file are errors', async () => {
  const dir = scratch(
    {
      'directory/acme.yaml': 'users:\n  - email: ann@acme.example\n  - email: bo@acme.example\n',
      'directory/custom-overrides.yaml': [
        'users:',
        '  - email: ann@acme.example',
        '    pronouns: [she, her]',
        '  - email: ANN@acme.example',
        '    jobTitle: Twice',
        '  - email: bo@acme.example',
        '    aliases: [ann@acme.example]',
        '',
      ].join('\n'),
    },
    TENANT.replace('  file: directory/acme.yaml\n', '  file: directory/acme.yaml\n  overrides: directory/custom-overrides.yaml\n'),
  );
  try {
    const r = await loadConfigRepo(dir);
    assert.ok(!r.ok);
    assert.deepEqual(diagnostics(r.errors), [
      'directory/custom-overrides.yaml:3:15 wrong-type',
      'directory/custom-overrides.yaml:4:12 duplicate-override',
      'directory/custom-overrides.yaml:7:15 duplicate-address',
    ]);
    assert.match(r.errors[2]!.message, /already belongs to ann@acme\.example \(its email, at directory\/acme\.yaml:2\)/);
    rmSync(join(dir, 'directory', 'custom-overrides.yaml'));
    const missing = await loadConfigRepo(dir);
    assert.ok(!missing.ok);
    assert.deepEqual(diagnostics(missing.errors), ['tenants/acme.yaml:11:14 overrides-missing']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a graph tenant: a template or rule using an attribute the sync never writes is a warning, unless the overrides set it', async () => {
  const graph = TENANT.replace('  source: file\n  file: directory/acme.yaml\n', '  source: graph\n')
    .replace('  - name: default\n', '  - name: by-pronouns\n    when:\n      pronouns: [she/her]\n    signature: basic\n  - name: default\n');
  const dir = scratch({ 'directory/acme.graph.yaml': 'users:\n  - email: ann@acme.example\n    displayName: Ann\n' }, graph);
  try {
    writeFileSync(join(dir, 'templates', 'basic.html.hbs'), '<p>{{user.displayName}} {{user.pronouns}}</p>\n');
    const r = await loadConfigRepo(dir);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(diagnostics(r.warnings).filter((w) => w.endsWith('attribute-not-synced')), [
      'templates/basic.html.hbs:1:27 attribute-not-synced',
      'tenants/acme.yaml:13:7 attribute-not-synced', // the pronouns: key of the rule,
    ]);
    assert.match(r.warnings.find((w) => w.file === 'templates/basic.html.hbs')!.message,
      /tenant acme reads its directory from Microsoft Graph, whose sync never writes 'pronouns'.*set it per user in directory\/acme\.overrides\.yaml/);
    // Set by the overrides: no warning for it.
    writeFileSync(join(dir, 'directory', 'acme.overrides.yaml'), 'users:\n  - email: ann@acme.example\n    pronouns: she/her\n');
    const fixed = await loadConfigRepo(dir);
    assert.ok(fixed.ok);
    assert.deepEqual(diagnostics(fixed.warnings).filter((w) => w.endsWith('attribute-not-synced')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relay: mail from an alias (example contoso: a.smith@contoso.co.uk) goes out with Alice\'s signature', async () => {
  const { config } = await loadValidConfig('example-config');
  const hop = await startNextHop();
  const r = await startTestRelay({ nextHop: hop, policy: compilePolicy(config) });
  try {
    const from = 'a.smith@contoso.co.uk';
    const res = await send(r.port, { from, to: ['bob@example.org'] }, message({ from }));
    assert.equal(res.ok, true, res.response);
    const text = decodeQp(hop.messages.at(-1)!.raw.toString('utf8'));
    assert.match(text, /Alice Example/);
    assert.match(text, /Sales Lead/);
  } finally {
    await r.stop();
    await hop.close();
  }
});
