// Microsoft Graph for `sigops directory sync` beyond the happy path: a tenant in GCC High reads
// the Graph of its cloud with a token for that Graph, every request carries a client-request-id,
// and a nextLink handed out again (seen on Graph) ends in a typed error instead of a loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphClient, GraphError, graphTokenProvider, readGraphDirectory, syncGraphSnapshot } from '../../src/directory/index.ts';
import { tenant as makeTenant } from '../exchange/helpers.ts';
import { CLIENT_ID, CONTOSO_ID, SECRET, startGraphHarness } from './helpers.ts';

const credentials = { kind: 'secret' as const, clientId: CLIENT_ID, clientSecret: SECRET };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

test('a GCC High tenant gets a token for graph.microsoft.us and syncs; every Graph request carries a client-request-id', async () => {
  const h = await startGraphHarness({ cloud: 'gcc-high' });
  try {
    const tokens = graphTokenProvider({ credentials, cloud: 'gcc-high', loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert });
    assert.equal(h.entra.fake.tokenGrant(await tokens.getToken(CONTOSO_ID))?.scope, 'https://graph.microsoft.us/.default');
    const gov = makeTenant('contoso', CONTOSO_ID, { cloud: 'gcc-high', directory: { source: 'graph', snapshot: 'directory/contoso.graph.yaml' } });
    const root = join(h.dir, 'gov');
    mkdirSync(join(root, 'directory'), { recursive: true });
    const result = await syncGraphSnapshot({ root, tenant: gov, previous: undefined, tokens, graphUrl: h.graph.url, validate: async () => ({ ok: true }) });
    assert.equal(result.written, true);
    assert.ok(result.users > 0);
    assert.ok(h.graph.requests.length > 0);
    for (const r of h.graph.requests) assert.match(r.clientRequestId ?? '', GUID, r.path);

    // The worldwide Graph scope is not issued by this cloud's login.
    const worldwide = graphTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert });
    const refused = await worldwide.getToken(CONTOSO_ID).catch((e: unknown) => e);
    assert.equal((refused as { code?: string }).code, 'AADSTS500011');
    assert.match((refused as { advice?: string }).advice ?? '', /`cloud:` in the tenant file/);
  } finally {
    await h.stop();
  }
});

test('Graph handing out the same nextLink again is a typed error, not an endless sync', async () => {
  const h = await startGraphHarness({ pageSize: 2 });
  try {
    h.graph.repeatNextLink = true;
    const client = new GraphClient({
      tenantId: CONTOSO_ID,
      tokens: graphTokenProvider({ credentials, loginUrl: h.entra.fake.loginUrl, ca: h.entra.fake.caCert }),
      graphUrl: h.graph.url,
    });
    const err = await readGraphDirectory(client, ['contoso.com']).catch((e: unknown) => e);
    assert.ok(err instanceof GraphError, String(err));
    assert.equal(err.code, 'endless-paging');
    assert.match(err.message, /Microsoft Graph handed out an @odata\.nextLink already followed/);
    assert.match(err.advice, /cannot be trusted to be complete/);
  } finally {
    await h.stop();
  }
});
