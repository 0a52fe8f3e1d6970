// The extension point: a condition defined in one module (weekdays.ts, test-only) and listed in a
// registry is read and checked by the loader, matched by decide() and sampled by the Action's
// preview, with no change anywhere else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatDiagnostics, loadConfigRepo } from '../../../src/config/index.ts';
import { previewRules } from '../../../src/github/preview.ts';
import { compilePolicy } from '../../../src/policy/index.ts';
import {
  attributes, between, ConditionRegistry, memberOf, recipientDomains, recipients, senders,
} from '../../../src/policy/conditions/index.ts';
import { weekdays } from './weekdays.ts';

const WITH_WEEKDAYS = ConditionRegistry.of(senders, memberOf, recipients, recipientDomains, between, weekdays, attributes);
const SATURDAY = new Date('2026-06-13T09:00:00Z');
const MONDAY = new Date('2026-06-15T09:00:00Z');

/** example-config with a `weekend` rule before contoso's default rule. */
function exampleWith(days: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-weekdays-'));
  cpSync(resolve('example-config'), dir, { recursive: true });
  const file = join(dir, 'tenants', 'contoso.yaml');
  const yaml = readFileSync(file, 'utf8');
  assert.ok(yaml.includes('  - name: default\n'));
  writeFileSync(file, yaml.replace('  - name: default\n', `  - name: weekend\n    when:\n      weekdays: ${days}\n    signature: executive\n  - name: default\n`));
  return dir;
}

test('registered, the new condition is read, checked, matched and sampled through the registry', async () => {
  const dir = exampleWith('[Saturday, sunday]');
  try {
    const r = await loadConfigRepo(dir, { conditions: WITH_WEEKDAYS });
    assert.deepEqual(r.ok ? [] : r.errors, []);
    assert.ok(r.ok);
    const rule = r.config.tenants.find((t) => t.slug === 'contoso')!.rules.find((x) => x.name === 'weekend')!;
    assert.deepEqual(rule.when, { weekdays: ['saturday', 'sunday'] });

    const contoso = compilePolicy(r.config, WITH_WEEKDAYS).tenantForDomain('contoso.com')!;
    const decide = (now: Date) => {
      const d = contoso.decide({ sender: 'alice@contoso.com', recipients: ['x@example.org'], now });
      return d.kind === 'sign' ? d.rule : d.reason;
    };
    assert.equal(decide(SATURDAY), 'weekend');
    assert.equal(decide(MONDAY), 'default');

    const [preview] = previewRules(r.config, compilePolicy(r.config, WITH_WEEKDAYS), [{ tenant: 'contoso', rule: 'weekend', why: 'new rule' }], MONDAY, WITH_WEEKDAYS);
    assert.equal(preview?.date, '2026-06-20'); // the next Saturday
    assert.ok(preview?.blocks, preview?.note);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the new condition's check reports with file:line:col; unregistered, its key is an unknown attribute", async () => {
  const dir = exampleWith('[saturday, someday]');
  try {
    const line = readFileSync(join(dir, 'tenants', 'contoso.yaml'), 'utf8').split('\n').indexOf('      weekdays: [saturday, someday]') + 1;
    assert.ok(line > 0);
    const r = await loadConfigRepo(dir, { conditions: WITH_WEEKDAYS });
    assert.ok(!r.ok);
    assert.equal(formatDiagnostics(r.errors, [], 'text').split('\n')[0],
      `tenants/contoso.yaml:${line}:28: error: 'someday' is not a day of the week (sunday, monday, tuesday, wednesday, thursday, friday, saturday) [unknown-weekday]`);

    const plain = await loadConfigRepo(dir);
    assert.ok(!plain.ok);
    assert.deepEqual(plain.errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.code}`), [`tenants/contoso.yaml:${line}:7 unknown-attribute`]);
    assert.match(plain.errors[0]!.message, /'weekdays' is neither a condition \(senders, memberOf, recipients, recipientDomains, between, messageType, sentAs\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
