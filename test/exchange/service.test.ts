// The Exchange client against what the real InvokeCommand endpoint does beyond the happy path
// (each behaviour and its source are listed at the top of test/fakes/exchange-online.ts):
// warnings and errors inside a 200, 403s with empty or unreadable bodies, a 401 that explains
// itself only in WWW-Authenticate, a nextLink handed out again, connectors in test mode, the
// paging and request-id headers on every call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExchangeApiError,
  ExchangeConnector,
  ForbiddenError,
  ObjectNotFoundError,
  UnauthorizedError,
  createObject,
  listObjects,
  updateObject,
  type ExchangeClient,
} from '../../src/exchange/index.ts';
import { formatError } from '../../src/errors/index.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, startHarness, type Harness } from './helpers.ts';
import type { ForbiddenBody } from '../fakes/exchange-online.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OUTBOUND = { ConnectorType: 'OnPremises', UseMXRecord: false, SmartHosts: ['relay.example.net'] };

let h: Harness;
let client: ExchangeClient;
before(async () => {
  h = await startHarness();
  client = new ExchangeConnector(h.exchange).client(CONTOSO_ID);
});
after(() => h.fake.stop());

test('every call asks for pages of 1000 and carries a fresh client-request-id (a GUID)', async () => {
  for (let i = 0; i < 3; i++) h.fake.seed(FABRIKAM_ID, 'InboundConnector', { Name: `in ${i}`, ConnectorType: 'Partner', Comment: '' });
  const from = h.fake.calls.length;
  const fabrikam = new ExchangeConnector(h.exchange).client(FABRIKAM_ID);
  assert.equal((await fabrikam.invoke('Get-InboundConnector')).length, 3);
  await fabrikam.invoke('Get-TransportRule');
  const calls = h.fake.calls.slice(from);
  assert.equal(calls.length, 2, 'one page each: the fake would page by 100 without Prefer');
  for (const c of calls) {
    assert.equal(c.prefer, 'odata.maxpagesize=1000');
    assert.match(c.clientRequestId ?? '', GUID);
  }
  assert.notEqual(calls[0]!.clientRequestId, calls[1]!.clientRequestId);
});

test('a failed call names its client-request-id and the request-id Exchange answered, in the error and its print-out', async () => {
  const from = h.fake.calls.length;
  const err = await client.invoke('Remove-InboundConnector', { Identity: 'nope', Confirm: false }).catch((e: unknown) => e);
  assert.ok(err instanceof ObjectNotFoundError, String(err));
  const sent = h.fake.calls.slice(from).at(-1)!.clientRequestId;
  assert.equal(err.request?.clientRequestId, sent);
  assert.match(err.request?.requestId ?? '', GUID);
  assert.match(formatError(err), new RegExp(`request: client-request-id ${sent}; request-id [0-9a-f-]{36} \\(quote it to Microsoft support\\)`));
});

test('warnings inside a 200 are returned (and do not fail the call), also for a Set- that changes nothing', async () => {
  h.fake.warnNext(['The connector will be validated later.']);
  const created = await client.run('New-OutboundConnector', { ...OUTBOUND, Name: 'warned' });
  assert.deepEqual(created.warnings, ['The connector will be validated later.']);
  assert.ok(h.fake.object(CONTOSO_ID, 'OutboundConnector', 'warned'));
  const warnings = await updateObject(client, 'OutboundConnector', 'warned', { UseMXRecord: false });
  assert.deepEqual(warnings, ["The command completed successfully but no settings of 'warned' have been modified."]);
});

test('an error inside a 200 fails the write with the service text; nothing is written (both shapes)', async () => {
  for (const form of ['adminapi.errors', 'error'] as const) {
    const name = `refused-${form}`;
    h.fake.failInsideOkNext(1, { form, text: 'Ex3A1F07|Microsoft.Exchange.Management.Tasks.ConnectorValidationException|The smart host relay.example.net could not be validated.' });
    const err = await createObject(client, { kind: 'OutboundConnector', name, params: OUTBOUND }).catch((e: unknown) => e);
    assert.ok(err instanceof ExchangeApiError, `${form}: ${String(err)}`);
    assert.equal(err.status, 200);
    assert.equal(err.exceptionClass, 'ConnectorValidationException');
    assert.equal(err.errId, 'Ex3A1F07');
    assert.match(err.message, /^New-OutboundConnector: The smart host relay\.example\.net could not be validated\.$/);
    assert.match(err.request?.clientRequestId ?? '', GUID);
    assert.equal(h.fake.object(CONTOSO_ID, 'OutboundConnector', name), undefined, `${form}: nothing created`);
  }
  // Mapped like an error answer: "couldn't be found" inside a 200 is still ObjectNotFoundError.
  h.fake.failInsideOkNext(1, { text: "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found." });
  await assert.rejects(client.invoke('Set-OutboundConnector', { Identity: 'x', Enabled: true }), ObjectNotFoundError);
});

test('a 403 with an empty, HTML, truncated or undecodable body is the typed permission error, never a TypeError', async () => {
  for (const body of ['undecodable', 'empty', 'html', 'truncated-json', 'json'] as ForbiddenBody[]) {
    h.fake.denyCmdlets(CONTOSO_ID, ['Get-TransportRule'], body);
    const err = await client.invoke('Get-TransportRule').catch((e: unknown) => e);
    assert.ok(err instanceof ForbiddenError, `${body}: ${String(err)}`);
    assert.equal(err.status, 403, body);
    assert.equal(err.code, body === 'json' ? 'Forbidden' : '403', body);
    assert.match(err.advice, /may not run Get-TransportRule.*Exchange Administrator role/, body);
    assert.match(err.request?.clientRequestId ?? '', GUID, body);
    const expected: Record<ForbiddenBody, RegExp> = {
      undecodable: /HTTP 403 Forbidden, with the body could not be decoded \(terminated/,
      empty: /HTTP 403 Forbidden, with no error body/,
      html: /HTTP 403 Forbidden, with a body that is not JSON: "<!DOCTYPE html>/,
      'truncated-json': /HTTP 403 Forbidden, with a body that is not JSON: "\{\\"error\\"/,
      json: /is not accessible: no management role assignment grants it/,
    };
    assert.match(err.message, expected[body], body);
  }
  h.fake.denyCmdlets(CONTOSO_ID, []);
  // Another cmdlet of the same tenant still works.
  assert.ok(Array.isArray(await client.invoke('Get-InboundConnector')));
  // A cmdlet Exchange does not have is refused the same way (measured on the real service).
  const unknown = await client.invoke('Get-NoSuchThing').catch((e: unknown) => e);
  assert.ok(unknown instanceof ForbiddenError, String(unknown));
});

test('a nextLink handed out again is a typed error after two pages, not an endless loop', async () => {
  h.fake.repeatNextLink(true);
  try {
    const from = h.fake.calls.length;
    const err = await client.invoke('Get-InboundConnector').catch((e: unknown) => e);
    assert.ok(err instanceof ExchangeApiError, String(err));
    assert.equal(err.code, 'endless-paging');
    assert.match(err.message, /handed out an @odata\.nextLink already followed .* after 2 pages/);
    assert.equal(h.fake.calls.length - from, 2);
  } finally {
    h.fake.repeatNextLink(false);
  }
});

test('a connector in test mode is listed (Get-OutboundConnector hides it unless -IncludeTestModeConnectors $true)', async () => {
  h.fake.seed(FABRIKAM_ID, 'OutboundConnector', { Name: 'testing', ConnectorType: 'Partner', UseMXRecord: true, TestMode: true, Comment: '' });
  h.fake.seed(FABRIKAM_ID, 'OutboundConnector', { Name: 'live', ConnectorType: 'Partner', UseMXRecord: true, Comment: '' });
  const fabrikam = new ExchangeConnector(h.exchange).client(FABRIKAM_ID);
  assert.deepEqual((await fabrikam.invoke('Get-OutboundConnector')).map((r) => r.Name), ['live']);
  assert.deepEqual((await fabrikam.invoke('Get-OutboundConnector', { IncludeTestModeConnectors: true })).map((r) => r.Name), ['testing']);
  assert.deepEqual((await listObjects(fabrikam, 'OutboundConnector')).map((r) => r.Name).sort(), ['live', 'testing']);
});

test("a token for another cloud's Exchange is a 401 explained only by WWW-Authenticate: UnauthorizedError naming the expected login", async () => {
  const gov = await startHarness({ cloud: 'gcc-high' });
  try {
    // What the worldwide login would issue: the GCC High Exchange refuses its audience.
    const token = gov.fake.mintToken(CONTOSO_ID, CLIENT_ID, 'https://outlook.office365.com/.default');
    const c = new ExchangeConnector({ ...gov.exchange, tokens: { getToken: async () => token } }).client(CONTOSO_ID, 'gcc-high');
    const err = await c.invoke('Get-TransportRule').catch((e: unknown) => e);
    assert.ok(err instanceof UnauthorizedError, String(err));
    assert.match(err.message, /HTTP 401 Unauthorized \(invalid_token; Exchange expects tokens from https:\/\/login\.microsoftonline\.us\), with no error body/);
    assert.match(err.advice, /`cloud:` in the tenant file/);
  } finally {
    await gov.fake.stop();
  }
});
