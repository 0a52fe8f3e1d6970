// Delivery details: the tenant's client certificate is presented to the next hop, and a relay
// on a cloned config repository (--repo) follows the remote branch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { simpleGit } from 'simple-git';
import { silentLogger } from '../../src/log/index.ts';
import { GitSync, redactCredentials } from '../../src/relay/git-sync.ts';
import { PolicyStore } from '../../src/relay/policy-store.ts';
import { startNextHop } from '../fakes/next-hop.ts';
import { CONTOSO, FABRIKAM, makePolicy, message, send, startTestRelay, tenant, until } from './helpers.ts';

const run = promisify(execFile);

describe('routing', () => {
  it("delivers each tenant's mail to its own deliverTo, never elsewhere", async () => {
    const a = await startNextHop();
    const b = await startNextHop();
    const policy = makePolicy([tenant('contoso', CONTOSO, ['contoso.com'], true, a.port), tenant('fabrikam', FABRIKAM, ['fabrikam.com'], true, b.port)]);
    // both hops use the same test certificate
    const r = await startTestRelay({ nextHop: a, policy, perTenant: true });
    try {
      assert.equal((await send(r.port, { from: 'alice@contoso.com', to: ['x@example.org'] }, message())).ok, true);
      assert.equal((await send(r.port, { from: 'f@fabrikam.com', to: ['y@example.org'] }, message({ tenantIds: [FABRIKAM], from: 'f@fabrikam.com' }))).ok, true);
      assert.deepEqual(a.messages.map((m) => m.from), ['alice@contoso.com']);
      assert.deepEqual(b.messages.map((m) => m.from), ['f@fabrikam.com']);
    } finally {
      await r.stop();
      await a.close();
      await b.close();
    }
  });
});

describe('client certificate', () => {
  it("presents <dir>/<certificateDomain>.crt/.key to the tenant's next hop", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-client-cert-'));
    const hop = await startNextHop({ requestCert: true });
    const r = await startTestRelay({ nextHop: hop, clientCertDir: dir });
    try {
      // contoso's certificateDomain in the test policy is contoso.relay.sigops.test; fabrikam has no files
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-keyout', join(dir, 'contoso.relay.sigops.test.key'), '-out', join(dir, 'contoso.relay.sigops.test.crt'), '-subj', '/CN=contoso.relay.sigops.test']);
      assert.equal((await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message())).ok, true);
      assert.equal(hop.messages.at(-1)!.clientCertSubject, 'contoso.relay.sigops.test');
      const fab = await send(r.port, { from: 'f@fabrikam.com', to: ['bob@example.org'] }, message({ tenantIds: ['0b3e6f1d-8c2a-4e7b-9d10-5a6c7e8f9012'], from: 'f@fabrikam.com' }));
      assert.equal(fab.ok, true, fab.response);
      assert.equal(hop.messages.at(-1)!.clientCertSubject, undefined);
    } finally {
      await r.stop();
      await hop.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GitSync (--repo)', () => {
  it('clones the branch, then follows new commits (also force pushes) and reloads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-git-'));
    try {
      // the "remote": a bare repository fed from a working copy of example-config
      const work = join(dir, 'work');
      await cp(new URL('../../example-config', import.meta.url), work, { recursive: true });
      const w = simpleGit(work);
      await w.init(['--initial-branch=main']);
      await w.addConfig('user.email', 't@example.org').addConfig('user.name', 't');
      await w.add('.').then(() => w.commit('initial'));
      await simpleGit().clone(work, join(dir, 'remote.git'), ['--bare']);
      await w.addRemote('origin', join(dir, 'remote.git'));

      const clone = join(dir, 'clone');
      const store = new PolicyStore(clone, silentLogger());
      const sync = new GitSync({ url: join(dir, 'remote.git'), branch: 'main', dir: clone, intervalMs: 200 }, silentLogger(), () => void store.reload('git-pull'));
      await sync.init();
      assert.equal(await store.reload('startup'), true);
      assert.equal(store.current?.policy.tenants.length, 2);
      sync.start();
      try {
        // a new tenant arrives on main
        const fabrikam = await readFile(join(work, 'tenants', 'fabrikam.yaml'), 'utf8');
        await writeFile(join(work, 'tenants', 'northwind.yaml'), fabrikam
          .replace(/^id: .*$/m, 'id: 5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5')
          .replace(/^domains: .*$/m, 'domains: [northwind.example]')
          .replace(/certificateDomain: .*/, 'certificateDomain: relay.northwind.example'));
        await w.add('.').then(() => w.commit('northwind'));
        await w.push('origin', 'main');
        await until(() => store.current?.policy.tenants.length === 3, 'the pulled commit to load');
        // history rewritten upstream: the clone follows
        await w.reset(['--hard', 'HEAD~1']);
        await w.push(['--force', 'origin', 'main']);
        await until(() => store.current?.policy.tenants.length === 2, 'the force push to be followed');
      } finally {
        sync.stop();
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps a deploy token in --repo out of its errors and logs', async () => {
    assert.equal(
      redactCredentials("fatal: unable to access 'https://x-access-token:ghs_Secret123@github.com/org/config.git/': 403"),
      "fatal: unable to access 'https://***@github.com/org/config.git/': 403",
    );
    assert.equal(redactCredentials('ssh://git@github.com/org/config.git'), 'ssh://***@github.com/org/config.git');
    assert.equal(redactCredentials('https://github.com/org/config.git'), 'https://github.com/org/config.git');
    const dir = await mkdtemp(join(tmpdir(), 'sigops-git-'));
    try {
      // nothing listens on port 1: the clone fails, and its error must not carry the token
      const sync = new GitSync({ url: 'http://deploy:tok3n-s3cret@127.0.0.1:1/org/config.git', branch: 'main', dir: join(dir, 'clone'), intervalMs: 200 }, silentLogger(), () => {});
      const err = await sync.init().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof Error, 'the clone fails');
      assert.doesNotMatch(err.message, /tok3n-s3cret/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('follows the --repo URL given now when the clone survived a restart (a rotated token)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-git-'));
    try {
      const work = join(dir, 'work');
      await cp(new URL('../../example-config', import.meta.url), work, { recursive: true });
      const w = simpleGit(work);
      await w.init(['--initial-branch=main']);
      await w.addConfig('user.email', 't@example.org').addConfig('user.name', 't');
      await w.add('.').then(() => w.commit('initial'));
      await simpleGit().clone(work, join(dir, 'old.git'), ['--bare']);
      const clone = join(dir, 'clone');
      await new GitSync({ url: join(dir, 'old.git'), branch: 'main', dir: clone, intervalMs: 200 }, silentLogger(), () => {}).init();
      // the repository moves; the old location is gone
      await run('mv', [join(dir, 'old.git'), join(dir, 'new.git')]);
      const sync = new GitSync({ url: join(dir, 'new.git'), branch: 'main', dir: clone, intervalMs: 200 }, silentLogger(), () => {});
      await sync.init();
      assert.equal((await simpleGit(clone).remote(['get-url', 'origin']))?.trim(), join(dir, 'new.git'));
      await writeFile(join(work, 'NOTE.md'), 'moved\n');
      await w.add('.').then(() => w.commit('after the move'));
      await w.push(join(dir, 'new.git'), 'main');
      assert.equal(await sync.pull(), true, 'pulls from the new URL');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
