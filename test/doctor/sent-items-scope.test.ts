// The doctor's sent-items-scope check against the Exchange fake: the app's "Application
// Mail.ReadWrite" assignment over the management scope the tenant file names is reported as in
// place; a missing service principal, scope or assignment, a tenant-wide assignment, and an
// explicitly unscoped tenant are findings with the cmdlet that fixes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ExchangeConnector } from '../../src/exchange/index.ts';
import { checkSentItemsScope } from '../../src/doctor/sent-items-scope.ts';
import type { Tenant } from '../../src/model/index.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, startHarness, tenant, type Harness } from '../exchange/helpers.ts';

let h: Harness;
let connector: ExchangeConnector;
before(async () => {
  h = await startHarness();
  connector = new ExchangeConnector(h.exchange);
});
after(() => h.fake.stop());

const check = (t: Tenant) => checkSentItemsScope(t, () => connector.tokenProvider(t.cloud), () => connector.client(t.id, t.cloud));
const SCOPE = 'sigops sent items';

test('passes when the app holds Application Mail.ReadWrite over the named scope', async () => {
  h.fake.addServicePrincipal(CONTOSO_ID, { AppId: CLIENT_ID, ObjectId: '9a8b7c6d-0000-4000-8000-000000000001', DisplayName: 'sigops' });
  h.fake.addManagementScope(CONTOSO_ID, { Name: SCOPE, RecipientRestrictionFilter: "MemberOfGroup -eq 'CN=Signed,OU=contoso.onmicrosoft.com'" });
  h.fake.addRoleAssignment(CONTOSO_ID, { Name: 'sigops-mail', Role: 'Application Mail.ReadWrite', App: CLIENT_ID, CustomResourceScope: SCOPE });
  const out = await check(tenant('contoso', CONTOSO_ID, { sentItems: { update: true, scope: SCOPE } }));
  assert.deepEqual(out.problems, []);
  assert.match(out.summary, /assigned to the app over the management scope "sigops sent items" \(MemberOfGroup -eq 'CN=Signed/);
});

test('reports a missing service principal and scope, with the cmdlets that create them', async () => {
  const out = await check(tenant('fabrikam', FABRIKAM_ID, { sentItems: { update: true, scope: SCOPE } }));
  assert.deepEqual(out.problems.map((p) => [p.severity, p.code]), [['error', 'service-principal-missing'], ['error', 'management-scope-missing']]);
  assert.match(out.problems[0]!.advice, new RegExp(`New-ServicePrincipal -AppId ${CLIENT_ID}`));
  assert.match(out.problems[1]!.advice, /New-ManagementScope -Name "sigops sent items" -RecipientRestrictionFilter "MemberOfGroup -eq/);
});

test('reports an assignment over the whole organization instead of the scope', async () => {
  h.fake.addServicePrincipal(FABRIKAM_ID, { AppId: CLIENT_ID, ObjectId: '9a8b7c6d-0000-4000-8000-000000000002', DisplayName: 'sigops' });
  h.fake.addManagementScope(FABRIKAM_ID, { Name: SCOPE, RecipientRestrictionFilter: "MemberOfGroup -eq 'CN=Signed'" });
  h.fake.addRoleAssignment(FABRIKAM_ID, { Name: 'sigops-all', Role: 'Application Mail.ReadWrite', App: CLIENT_ID });
  const out = await check(tenant('fabrikam', FABRIKAM_ID, { sentItems: { update: true, scope: SCOPE } }));
  assert.deepEqual(out.problems.map((p) => [p.severity, p.code]), [['error', 'role-assignment-missing'], ['warning', 'role-assignment-tenant-wide']]);
  assert.match(out.problems[0]!.message, /sigops-all over the whole organization/);
  assert.match(out.problems[0]!.advice, /New-ManagementRoleAssignment -App 9a8b7c6d-0000-4000-8000-000000000002 -Role "Application Mail.ReadWrite" -CustomResourceScope "sigops sent items"/);
});

test('warns about a tenant that runs unscoped, and skips one without the update', async () => {
  const unscoped = await check(tenant('contoso', CONTOSO_ID, { sentItems: { update: true, unscoped: true } }));
  assert.deepEqual(unscoped.problems.map((p) => [p.severity, p.code]), [['warning', 'sent-items-unscoped']]);
  const off = await check(tenant('contoso', CONTOSO_ID));
  assert.equal(off.skipped, true);
});
