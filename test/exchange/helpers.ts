// Shared set-up of the Exchange/plan tests: a started fake, tenants built as the loader would,
// and exchange options pointing the real client at the fake (no real waiting on back-off).
import type { ConfigRepo, Tenant } from '../../src/model/index.ts';
import type { ExchangeOptions } from '../../src/exchange/index.ts';
import { FakeExchangeOnline } from '../fakes/exchange-online.ts';

export const CONTOSO_ID = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
export const FABRIKAM_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
export const CLIENT_ID = '0d6b5f36-6bd5-4d0a-8f1b-5f0e2a9c0001';
export const SECRET = 'correct horse battery staple';

export function tenant(slug: string, id: string, overrides: Partial<Omit<Tenant, 'exchange'>> & { exchange?: Partial<Tenant['exchange']> } = {}): Tenant {
  const { exchange, ...rest } = overrides;
  return {
    slug,
    id,
    name: `${slug[0]!.toUpperCase()}${slug.slice(1)} Ltd`,
    domains: [`${slug}.com`],
    enabled: true,
    directory: { source: 'file', file: `directory/${slug}.yaml` },
    rules: [],
    file: `tenants/${slug}.yaml`,
    ...rest,
    exchange: {
      smartHost: 'relay.sigops.example.net',
      // The tenant's own name (a host directly under one of its domains), as validation requires.
      certificateDomain: `relay.${slug}.com`,
      deliverTo: { host: `${slug}-com.mail.protection.outlook.com`, port: 25 },
      senders: { kind: 'all' },
      internal: false,
      ...exchange,
    },
  };
}

export function configOf(root: string, tenants: Tenant[]): ConfigRepo {
  return { root, tenants, templates: new Map(), directories: new Map() };
}

export interface Harness {
  readonly fake: FakeExchangeOnline;
  readonly sleeps: number[];
  readonly exchange: ExchangeOptions;
}

/**
 * A started fake with both tenants (contoso.com and fabrikam.com accepted, as `tenant()` names
 * them) and the app (secret), plus options for the real client.
 */
export async function startHarness(options: ConstructorParameters<typeof FakeExchangeOnline>[0] = {}): Promise<Harness> {
  const fake = await new FakeExchangeOnline(options).start();
  fake.addTenant(CONTOSO_ID).addTenant(FABRIKAM_ID).registerApp({ clientId: CLIENT_ID, secret: SECRET, publicClient: true });
  fake.addAcceptedDomain(CONTOSO_ID, 'contoso.com');
  fake.addAcceptedDomain(FABRIKAM_ID, 'fabrikam.com');
  const sleeps: number[] = [];
  const exchange: ExchangeOptions = {
    exchangeUrl: fake.exchangeUrl,
    loginUrl: fake.loginUrl,
    ca: fake.caCert,
    credentials: { kind: 'secret', clientId: CLIENT_ID, clientSecret: SECRET },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { fake, sleeps, exchange };
}
