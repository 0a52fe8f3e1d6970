// Shared set-up of the directory sync tests: the Entra fake (tokens) from the Exchange tests,
// a fake Graph that accepts only the tokens that fake issued for Graph, a temp config repo
// made from example-config with contoso switched to `directory.source: graph`, and the real
// CLI as a child process configured only through the environment.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSigops, type CliRun } from '../cli.ts';
import { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET, startHarness, type Harness } from '../exchange/helpers.ts';
import { FakeGraph, type FakeGraphGroup, type FakeGraphUser } from '../fakes/graph.ts';
import type { FakeCloud } from '../fakes/exchange-online.ts';

export { CLIENT_ID, CONTOSO_ID, FABRIKAM_ID, SECRET };

export const USERS: FakeGraphUser[] = [
  {
    mail: 'Alice@Contoso.com',
    userPrincipalName: 'alice@contoso.com',
    displayName: 'Alice Example',
    givenName: 'Alice',
    surname: 'Example',
    jobTitle: 'Sales Lead',
    department: 'Sales',
    officeLocation: 'Seattle',
    businessPhones: ['+1 555 0100', '+1 555 0111'],
    mobilePhone: '+1 555 0199',
    companyName: 'Contoso Ltd',
    city: 'Seattle',
    country: 'United States',
    streetAddress: '1 Main St',
    postalCode: '98101',
    // Sends as a.smith@ too; the onmicrosoft.com address, X500: and SIP: entries are not kept.
    proxyAddresses: ['SMTP:alice@contoso.com', 'smtp:a.smith@contoso.co.uk', 'smtp:alice@contoso.onmicrosoft.com', 'X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=alice', 'SIP:alice@contoso.com'],
  },
  // No mailbox attribute, but the sign-in name is an address of the tenant: used as the address.
  { mail: null, userPrincipalName: 'carol@contoso.com', displayName: 'Carol Chief', jobTitle: 'Chief Executive Officer', department: 'Executive', businessPhones: [] },
  { mail: 'dmitri@contoso.co.uk', userPrincipalName: 'dmitri@contoso.onmicrosoft.com', displayName: 'Dmitri Ivanov', jobTitle: 'Account Manager: EMEA #1', department: 'Sales', businessPhones: ['+442079460958'] },
  { mail: 'bob@contoso.com', userPrincipalName: 'bob@contoso.com', displayName: 'Bob Builder', jobTitle: 'Site Engineer', department: 'Engineering', businessPhones: ['+1 555 0101'] },
  // Left out: disabled, a guest from elsewhere, no address at all.
  { accountEnabled: false, mail: 'gone@contoso.com', userPrincipalName: 'gone@contoso.com', displayName: 'Gone Away' },
  { mail: 'erin@fabrikam.com', userPrincipalName: 'erin_fabrikam.com#EXT#@contoso.onmicrosoft.com', displayName: 'Erin Guest' },
  { mail: null, userPrincipalName: 'room1@contoso.onmicrosoft.com', displayName: 'Room 1' },
  // A shared mailbox (disabled account): in the snapshot only when the tenant opts in.
  {
    accountEnabled: false, mail: 'support@contoso.com', userPrincipalName: 'support@contoso.onmicrosoft.com', displayName: 'Contoso Support',
    jobTitle: 'Customer Support', businessPhones: ['+1 555 0150'], mailboxPurpose: 'shared',
    proxyAddresses: ['SMTP:support@contoso.com', 'smtp:help@contoso.co.uk'],
  },
];

export const GROUPS: FakeGraphGroup[] = [
  { displayName: 'Sales', mail: 'Sales@contoso.com', members: ['alice@contoso.com', 'dmitri@contoso.onmicrosoft.com'] },
  { displayName: 'Board', mail: 'board@contoso.com', members: ['carol@contoso.com'] },
  { displayName: 'Engineering', mail: 'engineering@contoso.com', members: ['bob@contoso.com'] },
  // Nested: signatures@ holds the other groups, so its members come from them (transitive).
  { displayName: 'Signatures', mail: 'signatures@contoso.com', members: ['Sales', 'Board', 'Engineering'] },
  // Not mail-enabled: a plain security group is not listed.
  { displayName: 'VPN users', mail: null, mailEnabled: false, members: ['alice@contoso.com'] },
];

export interface GraphHarness {
  readonly entra: Harness;
  readonly graph: FakeGraph;
  readonly dir: string;
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startGraphHarness(options: { pageSize?: number; cloud?: FakeCloud } = {}): Promise<GraphHarness> {
  const entra = await startHarness(options.cloud ? { cloud: options.cloud } : {});
  // Graph accepts only tokens for the Graph of the cloud the login plays.
  const graph = await new FakeGraph((t) => entra.fake.tokenGrant(t), { ...options, audience: entra.fake.graphScope }).start();
  graph.setTenant(CONTOSO_ID, { users: USERS, groups: GROUPS });
  const dir = mkdtempSync(join(tmpdir(), 'sigops-dirsync-'));
  const caFile = join(dir, 'fake-ca.pem');
  writeFileSync(caFile, entra.fake.caCert);
  return {
    entra,
    graph,
    dir,
    caFile,
    async stop() {
      await graph.stop();
      await entra.fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A config repo copied from example-config, contoso switched to a Graph snapshot. */
export function makeConfig(parent: string, name: string): string {
  const root = join(parent, name);
  cpSync(resolve('example-config'), root, { recursive: true });
  const tenantFile = join(root, 'tenants', 'contoso.yaml');
  const text = readFileSync(tenantFile, 'utf8');
  const switched = text.replace('  source: file\n  file: directory/contoso.yaml\n', '  source: graph\n');
  if (switched === text) throw new Error('example-config/tenants/contoso.yaml changed shape: update test/directory/helpers.ts');
  writeFileSync(tenantFile, switched);
  rmSync(join(root, 'directory', 'contoso.yaml'));
  return root;
}

/** ./bin/sigops with the fakes' URLs and the app's secret in the environment, nothing else of ours. */
export function sigops(h: GraphHarness, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSigops(args, {
    SIGOPS_GRAPH_URL: h.graph.url,
    SIGOPS_LOGIN_URL: h.entra.fake.loginUrl,
    SIGOPS_CLIENT_ID: CLIENT_ID,
    SIGOPS_CLIENT_SECRET: SECRET,
    NODE_EXTRA_CA_CERTS: h.caFile,
    ...env,
  });
}
