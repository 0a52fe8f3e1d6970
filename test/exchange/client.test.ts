import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExchangeApiError,
  ExchangeClient,
  ObjectExistsError,
  ObjectNotFoundError,
  ThrottledError,
  UnknownParameterError,
  ForbiddenError,
  ExchangeConnector,
} from '../../src/exchange/index.ts';
import { CONTOSO_ID, FABRIKAM_ID, startHarness, type Harness } from './helpers.ts';

let h: Harness;
let client: ExchangeClient;
before(async () => {
  h = await startHarness({ pageSize: 2 });
  client = new ExchangeConnector(h.exchange).client(CONTOSO_ID);
});
after(() => h.fake.stop());

test('follows @odata.nextLink across pages', async () => {
  for (let i = 0; i < 5; i++) h.fake.seed(FABRIKAM_ID, 'TransportRule', { Name: `rule ${i}`, Priority: i, Comments: '' });
  const before = h.fake.calls.length;
  const rules = await new ExchangeConnector(h.exchange).client(FABRIKAM_ID).invoke('Get-TransportRule');
  assert.deepEqual(
    rules.map((r) => r.Name),
    ['rule 0', 'rule 1', 'rule 2', 'rule 3', 'rule 4'],
  );
  assert.equal(h.fake.calls.length - before, 3, 'three pages of two');
});

test('a parameter the cmdlet lacks is a typed UnknownParameterError (Set-TransportRule -Enabled)', async () => {
  await client.invoke('New-OutboundConnector', {
    Name: 'o1',
    ConnectorType: 'OnPremises',
    UseMXRecord: false,
    SmartHosts: ['relay.example.net'],
  });
  await client.invoke('New-TransportRule', { Name: 'r1', RouteMessageOutboundConnector: 'o1' });
  const err = await client.invoke('Set-TransportRule', { Identity: 'r1', Enabled: false }).catch((e: unknown) => e);
  assert.ok(err instanceof UnknownParameterError, String(err));
  assert.equal(err.exceptionClass, 'ParameterBindingException');
  assert.match(err.errId ?? '', /^Ex[0-9A-F]{6}$/);
  assert.match(err.message, /Set-TransportRule: A parameter cannot be found that matches parameter name 'Enabled'/);
  assert.match(err.advice, /bug in sigops/);
});

test('missing and duplicate objects map to their own error classes', async () => {
  const missing = await client.invoke('Remove-InboundConnector', { Identity: 'nope', Confirm: false }).catch((e: unknown) => e);
  assert.ok(missing instanceof ObjectNotFoundError);
  assert.equal(missing.status, 404);
  const dup = await client.invoke('New-OutboundConnector', { Name: 'o1', ConnectorType: 'OnPremises', UseMXRecord: false, SmartHosts: ['x.example'] }).catch((e: unknown) => e);
  assert.ok(dup instanceof ObjectExistsError);
  assert.match(dup.advice, /marker/);
});

test('429 is retried, honouring Retry-After', async () => {
  h.sleeps.length = 0;
  h.fake.throttleNext(2, { status: 429, retryAfterSeconds: 7 });
  const out = await client.invoke('Get-OutboundConnector');
  assert.ok(out.length >= 1);
  assert.equal(h.sleeps.length, 2);
  assert.ok(h.sleeps.every((ms) => ms >= 7000), `waited ${h.sleeps.join(',')}`);
});

test('503, 504 and the concurrent-requests error are retried too', async () => {
  h.sleeps.length = 0;
  h.fake.throttleNext(1, { status: 503, retryAfterSeconds: 0 });
  h.fake.throttleNext(1, { status: 504, retryAfterSeconds: 0 });
  h.fake.throttleNext(1, { concurrency: true });
  await client.invoke('Get-InboundConnector');
  assert.equal(h.sleeps.length, 3);
});

test('throttled beyond the retry budget gives ThrottledError', async () => {
  const c = new ExchangeConnector({ ...h.exchange, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } }).client(CONTOSO_ID);
  h.fake.throttleNext(3, { status: 429, retryAfterSeconds: 1 });
  const err = await c.invoke('Get-OutboundConnector').catch((e: unknown) => e);
  assert.ok(err instanceof ThrottledError, String(err));
  assert.match(err.message, /after 3 attempts/);
});

test('writes are not replayed after a network error; reads are', async () => {
  let calls = 0;
  const flaky: typeof fetch = async (input, init) => {
    calls++;
    if (calls === 1) throw new TypeError('fetch failed');
    return fetch(input, init);
  };
  const reader = new ExchangeConnector({ ...h.exchange, fetch: flaky }).client(CONTOSO_ID);
  await reader.invoke('Get-OutboundConnector');
  assert.equal(calls, 2);
  calls = 0;
  const writer = new ExchangeConnector({ ...h.exchange, fetch: flaky }).client(CONTOSO_ID);
  const err = await writer.invoke('Remove-TransportRule', { Identity: 'r1', Confirm: false }).catch((e: unknown) => e);
  assert.ok(err instanceof ExchangeApiError);
  assert.equal(calls, 1);
});

test('an app without the Exchange role gets ForbiddenError with advice about the role', async () => {
  h.fake.setExchangeRole(FABRIKAM_ID, false);
  try {
    const err = await new ExchangeConnector(h.exchange).client(FABRIKAM_ID).invoke('Get-TransportRule').catch((e: unknown) => e);
    assert.ok(err instanceof ForbiddenError, String(err));
    assert.match(err.advice, /Exchange Administrator role/);
  } finally {
    h.fake.setExchangeRole(FABRIKAM_ID, true);
  }
});

test('the fake refuses a wrong X-AnchorMailbox, so the header the client sends is the real one', async () => {
  const c = new ExchangeClient({
    tenantId: CONTOSO_ID,
    exchangeUrl: h.fake.exchangeUrl,
    tokens: new ExchangeConnector(h.exchange).tokenProvider(),
    anchorMailbox: 'APP:someone@else',
  });
  const err = await c.invoke('Get-OutboundConnector').catch((e: unknown) => e);
  assert.ok(err instanceof ExchangeApiError);
  assert.match(err.message, /X-AnchorMailbox/);
  const ok = await client.invoke('Get-OutboundConnector');
  assert.ok(Array.isArray(ok));
});

test('a bearer token of another tenant is refused', async () => {
  const tokens = new ExchangeConnector(h.exchange).tokenProvider();
  const c = new ExchangeClient({
    tenantId: CONTOSO_ID,
    exchangeUrl: h.fake.exchangeUrl,
    tokens: { getToken: () => tokens.getToken(FABRIKAM_ID) },
  });
  const err = await c.invoke('Get-OutboundConnector').catch((e: unknown) => e);
  assert.ok(err instanceof ExchangeApiError);
  assert.equal(err.status, 401);
});

test('@odata.nextLink to another host is not followed (the token stays home)', async () => {
  const evil: typeof fetch = async () =>
    new Response(JSON.stringify({ value: [{ Name: 'a' }], '@odata.nextLink': 'http://127.0.0.2:1/steal' }), { status: 200 });
  const c = new ExchangeClient({ tenantId: CONTOSO_ID, exchangeUrl: h.fake.exchangeUrl, tokens: { getToken: async () => 't' }, fetch: evil });
  await assert.rejects(c.invoke('Get-OutboundConnector'), /refusing to follow @odata.nextLink/);
});
