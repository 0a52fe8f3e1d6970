// The directory sync pull request's description: counts per tenant, addresses listed up to a
// limit and counted beyond it, warnings and left-out accounts, and never over GitHub's 65,536
// characters whatever the size of the change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTORY_SYNC_MARKER, pullRequestBody } from '../../src/github/commands/directory-sync.ts';
import { tenant } from '../exchange/helpers.ts';
import type { SyncResult } from '../../src/directory/index.ts';

const target = { owner: 'acme', repo: 'signatures', base: 'main', baseSha: 'a'.repeat(40), branch: 'sigops/directory-sync/all' };

function result(added: number, changed: number, written = true): SyncResult {
  return {
    file: 'directory/contoso.graph.yaml',
    written,
    users: 100_000,
    groups: 5_000,
    mailboxes: 0,
    changes: {
      added: Array.from({ length: added }, (_, i) => `new${i}@contoso.com`),
      removed: ['gone@contoso.com'],
      changed: Array.from({ length: changed }, (_, i) => ({ email: `user_${i}@contoso.com`, fields: ['jobTitle', 'memberOf'] })),
    },
    skipped: { noAddress: 3, otherDomain: 0, nonAscii: 0, duplicate: 1, aliases: 0, groups: 0 },
    warnings: ['group x@contoso.com: members not readable (HTTP 403); left out of memberOf'],
  };
}

test('counts, the first 200 addresses of each kind, warnings and left-out accounts', () => {
  const body = pullRequestBody(
    [
      { tenant: tenant('contoso', '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10'), result: result(250, 2), path: 'directory/contoso.graph.yaml' },
      { tenant: tenant('fabrikam', '3f2504e0-4f89-41d3-9a0c-0305e82c3301'), result: { ...result(0, 0, false), file: 'directory/fabrikam.graph.yaml' }, path: 'directory/fabrikam.graph.yaml' },
    ],
    target,
    'https://github.com/acme/signatures/actions/runs/1',
  );
  assert.ok(body.startsWith(`${DIRECTORY_SYNC_MARKER}\n`));
  assert.match(body, /\| `contoso` \| `directory\/contoso\.graph\.yaml` \| 100,000 \| 250 \| 1 \| 2 \|/);
  assert.match(body, /\| `fabrikam` \| `directory\/fabrikam\.graph\.yaml` \| 100,000 \| — \| — \| — \|/);
  assert.match(body, /^- new199@contoso\.com$/m);
  assert.doesNotMatch(body, /new200@/);
  assert.match(body, /^- … and 50 more$/m);
  // Markdown in an address is escaped, not rendered.
  assert.match(body, /^- user\\_0@contoso\.com: jobTitle, memberOf$/m);
  assert.match(body, /\*\*Warnings\*\*\n\n- `contoso`: group x@contoso\.com: members not readable/);
  assert.match(body, /- `contoso`: 3 without a usable e-mail address, 1 duplicate addresses/);
  assert.match(body, /\[this run\]\(https:\/\/github\.com\/acme\/signatures\/actions\/runs\/1\)/);
});

test("a change to 100,000 users still fits GitHub's limit", () => {
  const many = Array.from({ length: 40 }, (_, i) => ({
    tenant: tenant(`t${i}`, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
    result: result(100_000, 100_000),
    path: `directory/t${i}.graph.yaml`,
  }));
  const body = pullRequestBody(many, target);
  assert.ok(body.length <= 65_536, String(body.length));
  assert.match(body, /Shortened/);
});
