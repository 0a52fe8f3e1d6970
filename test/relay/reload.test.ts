// Hot reload inside the relay: a message keeps the config generation it started with, a refused
// config leaves the last good one serving, and reloads never overlap.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/index.ts';
import { PolicyStore, type PolicyLoadResult } from '../../src/relay/policy-store.ts';
import { RelayMetrics } from '../../src/relay/metrics.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { RawSmtp, decodeQp, makePolicy, replyMessage, standardTenants, startTestRelay, type TestRelay } from './helpers.ts';

async function tlsSession(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.open(port);
  await c.cmd('EHLO client.test');
  await c.starttls();
  await c.cmd('EHLO client.test');
  return c;
}

describe('relay: config generations', () => {
  let hop: NextHop;
  let r: TestRelay;
  before(async () => {
    hop = await startNextHop();
    r = await startTestRelay({ nextHop: hop });
  });
  after(async () => {
    await r.stop();
    await hop.close();
  });

  it('a message keeps the config it started with; the next one uses the new config', async () => {
    const c = await tlsSession(r.port);
    try {
      assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
      assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
      // config changes while the transaction is open
      r.next.result = { ok: true, policy: makePolicy(standardTenants(), 'SIG-2'), warnings: [] };
      assert.equal(await r.store.reload('test'), true);
      assert.equal(r.store.current?.generation, 2);
      assert.match(await c.cmd('DATA'), /^354/);
      assert.match(await c.cmd(replyMessage() + '\r\n.'), /^250 /);
      assert.match(decodeQp(hop.messages.at(-1)!.raw.toString()), /-- SIG-1/);
      // next transaction on the same connection: new generation
      await c.cmd('MAIL FROM:<alice@contoso.com>');
      await c.cmd('RCPT TO:<bob@example.org>');
      await c.cmd('DATA');
      assert.match(await c.cmd(replyMessage() + '\r\n.'), /^250 /);
      assert.match(decodeQp(hop.messages.at(-1)!.raw.toString()), /-- SIG-2/);
    } finally {
      c.close();
    }
  });

  it('a refused config keeps the last good one serving and is reported', async () => {
    const generation = r.store.current!.generation;
    r.next.result = { ok: false, errors: ['tenants/contoso.yaml:3:1 unknown key "frobnicate"'] };
    assert.equal(await r.store.reload('test'), false);
    assert.equal(r.store.current!.generation, generation);
    assert.deepEqual(r.store.lastReload?.errors, ['tenants/contoso.yaml:3:1 unknown key "frobnicate"']);
    const metrics = await r.metrics.registry.metrics();
    assert.match(metrics, /sigops_config_last_reload_success 0/);
    assert.match(metrics, new RegExp(`sigops_config_generation ${generation}`));
  });
});

describe('PolicyStore', () => {
  it('serialises reloads: a change during a load triggers exactly one more load', async () => {
    let running = 0;
    let maxRunning = 0;
    let loads = 0;
    const gate: Array<() => void> = [];
    const loader = async (): Promise<PolicyLoadResult> => {
      running++;
      loads++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => gate.push(r));
      running--;
      return { ok: true, policy: makePolicy(standardTenants()), warnings: [] };
    };
    const store = new PolicyStore('/x', silentLogger(), new RelayMetrics(), loader);
    const first = store.reload('a');
    void store.reload('b');
    void store.reload('c');
    while (gate.length === 0) await new Promise((r) => setImmediate(r));
    gate.shift()!();
    await first;
    while (gate.length === 0) await new Promise((r) => setImmediate(r));
    gate.shift()!();
    while (store.current?.generation !== 2) await new Promise((r) => setImmediate(r));
    assert.equal(loads, 2);
    assert.equal(maxRunning, 1);
  });

  it('a loader that throws is a refused config, not a crash', async () => {
    const store = new PolicyStore('/x', silentLogger(), undefined, async () => {
      throw new Error('disk on fire');
    });
    assert.equal(await store.reload(), false);
    assert.equal(store.current, undefined);
    assert.deepEqual(store.lastReload?.errors, ['disk on fire']);
  });
});
