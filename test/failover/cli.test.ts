// `sigops failover` through the real CLI (./bin/sigops), configured only through the environment
// as in production, against the Exchange fake and a /healthz on loopback: --plan-only writes
// nothing; down → disabled and logged; plan shows the hold; back → enabled; --watch loops until
// SIGTERM. The example config is applied through the library first (fewer processes to start).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigRepo } from '../../src/config/index.ts';
import { applyPlan, planTenants } from '../../src/plan/index.ts';
import { runSigops } from '../cli.ts';
import { CLIENT_ID, CONTOSO_ID, SECRET, startHarness, type Harness } from '../exchange/helpers.ts';
import { startHealthz, type Healthz } from './healthz.ts';

const RULE = 'sigops route';

describe('sigops failover (the CLI)', { concurrency: 1 }, () => {
  let h: Harness;
  let dir: string;
  let config: string;
  let caFile: string;
  let relay: Healthz;

  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'sigops-failover-cli-'));
    config = join(dir, 'config');
    cpSync(resolve('example-config'), config, { recursive: true });
    caFile = join(dir, 'fake-ca.pem');
    writeFileSync(caFile, h.fake.caCert);
    relay = await startHealthz();
    const loaded = await loadConfigRepo(config);
    assert.ok(loaded.ok);
    const report = await applyPlan(await planTenants({ config: loaded.config, exchange: h.exchange }), { config: loaded.config, exchange: h.exchange });
    assert.ok(report.converged);
  });
  after(async () => {
    await h.fake.stop();
    await relay.down().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    SIGOPS_EXCHANGE_URL: h.fake.exchangeUrl,
    SIGOPS_LOGIN_URL: h.fake.loginUrl,
    SIGOPS_CLIENT_ID: CLIENT_ID,
    SIGOPS_CLIENT_SECRET: SECRET,
    NODE_EXTRA_CA_CERTS: caFile,
  });
  const sigops = (args: string[]) => runSigops(args, env());
  const state = () => h.fake.object(CONTOSO_ID, 'TransportRule', RULE)!.State;

  it('down → disabled (logged); plan shows it; back → enabled', { timeout: 110_000 }, async () => {
    await relay.down();
    const preview = await sigops(['failover', '--config', config, '--health', relay.url, '--after', '0', '--plan-only']);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /relay fleet UNHEALTHY/);
    assert.match(preview.stdout, /contoso \(7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10\): disabled: .*\n {2}would write the failover note \(Set-TransportRule -Comments\), then disable the rule \(Disable-TransportRule\)/);
    assert.equal(state(), 'Enabled', '--plan-only writes nothing');

    const down = await sigops(['failover', '--config', config, '--health', relay.url, '--after', '0']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /contoso: SWITCHED: /);
    assert.match(down.stderr, /"msg":"failover: rule disabled/);
    assert.equal(state(), 'Disabled');

    const plan = await sigops(['plan', '--config', config, '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /failover: rule disabled by failover since /);

    await relay.up();
    const back = await sigops(['failover', '--config', config, '--health', relay.url, '--recover-after', '0', '--format', 'json']);
    assert.equal(back.code, 0, back.stderr);
    const report = JSON.parse(back.stdout) as { tenants: { slug: string; outcome: string }[] };
    assert.equal(report.tenants.find((t) => t.slug === 'contoso')?.outcome, 'enabled');
    assert.match(back.stderr, /"msg":"failover: rule re-enabled/);
    assert.equal(state(), 'Enabled');
  });

  it('no --health: a clear error, exit 1; --watch checks every interval and ends on SIGTERM between rounds', { timeout: 110_000 }, async () => {
    const child = spawn(process.execPath, [resolve('bin/sigops'), 'failover', '--config', config, '--health', relay.url, '--watch', '0.3'], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const none = sigops(['failover', '--config', config]); // side by side: one process start less to wait for
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    const rounds = (): number => (out.match(/^sigops failover$/gm) ?? []).length;
    const deadline = Date.now() + 90_000;
    while (rounds() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.ok(rounds() >= 2, `two rounds at least: ${out}`);
    assert.match(out, /relay fleet healthy at /);
    assert.equal(code, 0);

    const r = await none;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FailoverSettingsError \[failover-settings\]: no --health URL given/);
  });
});
