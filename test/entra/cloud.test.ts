// The Microsoft clouds sigops supports: one list in the model, the schema and src/entra/cloud.ts;
// endpoints that agree with the fake's own table (written from Microsoft's lists); each tenant's
// `cloud:` read by the loader; and the Exchange and Graph clients calling their cloud's hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLOUDS, CLOUD_NAMES, cloudEndpoints } from '../../src/entra/index.ts';
import { TENANT_CLOUDS } from '../../src/model/index.ts';
import { ExchangeConnector, exchangeOptionsFromEnv } from '../../src/exchange/index.ts';
import { GraphClient } from '../../src/directory/index.ts';
import { loadConfigRepo } from '../../src/config/index.ts';
import { FAKE_CLOUDS } from '../fakes/exchange-online.ts';

test('the tenant file, the model and src/entra/cloud.ts name the same clouds', () => {
  const schema = JSON.parse(readFileSync(resolve('schemas/tenant.schema.json'), 'utf8')) as { properties: { cloud: { enum: string[]; default: string } } };
  assert.deepEqual([...CLOUD_NAMES], [...TENANT_CLOUDS]);
  assert.deepEqual(schema.properties.cloud.enum, [...CLOUD_NAMES]);
  assert.equal(schema.properties.cloud.default, 'global');
  assert.deepEqual(Object.keys(CLOUDS).sort(), [...CLOUD_NAMES].sort());
});

test("each cloud's login, Exchange and Graph endpoints and scopes (checked against the fake's own table)", () => {
  for (const name of CLOUD_NAMES) {
    const c = CLOUDS[name];
    const f = FAKE_CLOUDS[name];
    assert.equal(c.name, name);
    assert.equal(new URL(c.loginUrl).host, f.login, name);
    assert.equal(c.exchangeUrl, f.exchange, name);
    assert.equal(c.exchangeScope, `${f.exchange}/.default`, name);
    assert.equal(c.graphUrl, f.graph, name);
    assert.equal(c.graphScope, `${f.graph}/.default`, name);
  }
  assert.equal(CLOUDS['gcc-high'].exchangeScope, 'https://outlook.office365.us/.default');
  assert.equal(CLOUDS.dod.graphUrl, 'https://dod-graph.microsoft.us');
  assert.deepEqual(CLOUDS.gcc, { ...CLOUDS.global, name: 'gcc', description: CLOUDS.gcc.description }, 'GCC (moderate) uses the worldwide endpoints');
  assert.equal(cloudEndpoints(undefined), CLOUDS.global);
});

test('without URL overrides the clients call their cloud (SIGOPS_EXCHANGE_URL unset means per-tenant)', async () => {
  assert.deepEqual(exchangeOptionsFromEnv({}), {});
  assert.deepEqual(exchangeOptionsFromEnv({ SIGOPS_EXCHANGE_URL: 'http://127.0.0.1:1', SIGOPS_LOGIN_URL: 'https://127.0.0.1:2' }), {
    exchangeUrl: 'http://127.0.0.1:1',
    loginUrl: 'https://127.0.0.1:2',
  });
  const urls: string[] = [];
  const answer: typeof fetch = async (input) => {
    urls.push(String(input));
    return new Response(JSON.stringify({ value: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const tokens = { getToken: async () => 'token' };
  const connector = new ExchangeConnector({ tokens, fetch: answer });
  for (const name of CLOUD_NAMES) await connector.client('7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10', name).invoke('Get-TransportRule');
  await connector.client('7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10').invoke('Get-TransportRule');
  assert.deepEqual(
    urls.map((u) => new URL(u).origin),
    ['https://outlook.office365.com', 'https://outlook.office365.com', 'https://outlook.office365.us', 'https://outlook-dod.office365.us', 'https://partner.outlook.cn', 'https://outlook.office365.com'],
  );
  urls.length = 0;
  await new GraphClient({ tenantId: 't', tokens, cloud: 'dod', fetch: answer }).list('/v1.0/users');
  assert.deepEqual(urls, ['https://dod-graph.microsoft.us/v1.0/users']);
});

test("the loader reads `cloud:` (default global) and refuses a cloud it does not know", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigops-cloud-'));
  try {
    cpSync(resolve('test/fixtures/configs/directory-missing'), dir, { recursive: true });
    mkdirSync(join(dir, 'directory'), { recursive: true });
    writeFileSync(join(dir, 'directory', 'acme.yaml'), 'users: []\n');
    rmSync(join(dir, 'expected.txt'));
    const file = join(dir, 'tenants', 'acme.yaml');
    const original = readFileSync(file, 'utf8');
    const plain = await loadConfigRepo(dir);
    assert.ok(plain.ok, JSON.stringify(!plain.ok && plain.errors));
    assert.equal(plain.config.tenants[0]!.cloud, 'global');

    writeFileSync(file, `cloud: gcc-high\n${original}`);
    const gov = await loadConfigRepo(dir);
    assert.ok(gov.ok, JSON.stringify(!gov.ok && gov.errors));
    assert.equal(gov.config.tenants[0]!.cloud, 'gcc-high');

    writeFileSync(file, `cloud: usgov\n${original}`);
    const bad = await loadConfigRepo(dir);
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.errors.some((e) => e.line === 1 && /cloud must be one of global, gcc, gcc-high, dod, china/.test(e.message)), JSON.stringify(!bad.ok && bad.errors));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
