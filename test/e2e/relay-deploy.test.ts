// `sigops relay` run the way the README deploys it, with no Node flags of the operator's: the
// relay applies its own memory tuning (bin/sigops), survives signals arriving twice, and with
// --require-client-cert takes mail only from a client with the right certificate.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { TestCa } from '../doctor/pki.ts';
import { RawSmtp, message, send, until } from '../relay/helpers.ts';
import { getJson, PROJECT, startRelayProcess, type RelayProcess } from './relay-process.ts';

const NO_OPERATOR_FLAGS = { NODE_OPTIONS: '' };

describe('sigops relay as deployed: its own memory tuning', () => {
  let dir: string;
  let hop: NextHop;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-deploy-'));
    hop = await startNextHop();
    await writeFile(join(dir, 'hop-ca.pem'), hop.cert);
  });
  after(async () => {
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  });
  const args = () => ['--config', join(PROJECT, 'example-config'), '--deliver', `smtp://127.0.0.1:${hop.port}`, '--deliver-ca', join(dir, 'hop-ca.pem'), '--state', join(dir, 'state')];

  for (const direct of [true, false]) {
    it(`${direct ? './bin/sigops relay' : 'node bin/sigops relay'}: runs with a 4 MB young generation, which V8 honours`, async () => {
      const relay = await startRelayProcess(args(), { direct, env: NO_OPERATOR_FLAGS });
      try {
        const res = await send(relay.smtpPort, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message({ body: 'x'.repeat(70) + '\r\n' + ('y'.repeat(76) + '\r\n').repeat(20_000) }));
        assert.equal(res.ok, true, res.response);
        const health = await getJson(relay.httpPort, '/healthz');
        const runtime = health.body.runtime as { pid: number; nodeFlags: string[]; youngGenerationMb: number };
        assert.ok(runtime.nodeFlags.includes('--max-semi-space-size=4'), `flags in effect: ${runtime.nodeFlags.join(' ')}`);
        // two semi-spaces of at most 4 MB (V8's default grows them to 16 MB each under load)
        assert.ok(runtime.youngGenerationMb > 0 && runtime.youngGenerationMb <= 8, `young generation ${runtime.youngGenerationMb} MB`);
        const metrics = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
        const newSpace = Number(/sigops_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/.exec(metrics)?.[1]);
        assert.ok(newSpace > 0 && newSpace <= 8 * 1024 * 1024, `new space ${newSpace} bytes`);
        // the tuned relay is bin/sigops's child; signals to bin/sigops reach it
        assert.equal(runtime.pid, relay.relayPid);
        assert.notEqual(relay.relayPid, relay.child.pid);
        relay.kill('SIGTERM');
        assert.equal(await relay.exited, 0);
        await until(() => !alive(relay.relayPid), 'the relay process to be gone');
      } finally {
        relay.kill('SIGKILL');
      }
    });
  }

  it('a flag the operator set is left alone (no second process)', async () => {
    const relay = await startRelayProcess(args(), { env: { NODE_OPTIONS: '--max-semi-space-size=2' } });
    try {
      assert.equal(relay.relayPid, relay.child.pid);
      const runtime = (await getJson(relay.httpPort, '/healthz')).body.runtime as { youngGenerationMb: number };
      assert.ok(runtime.youngGenerationMb <= 4, `young generation ${runtime.youngGenerationMb} MB`);
    } finally {
      relay.kill('SIGKILL');
      await relay.exited;
    }
  });

  it('SIGINT reaching both processes (a terminal Ctrl-C) still drains the message in flight', async () => {
    const relay = await startRelayProcess([...args(), '--drain-timeout', '20'], { env: NO_OPERATOR_FLAGS });
    let release!: () => void;
    hop.hold = new Promise<void>((r) => (release = r));
    try {
      const c = await RawSmtp.open(relay.smtpPort);
      await c.cmd('EHLO outbound.protection.outlook.test');
      await c.starttls();
      await c.cmd('EHLO outbound.protection.outlook.test');
      await c.cmd('MAIL FROM:<alice@contoso.com>');
      await c.cmd('RCPT TO:<bob@example.org>');
      await c.cmd('DATA');
      const started = hop.dataStarted;
      const reply = c.cmd(message().replace(/\r\n\./g, '\r\n..') + '\r\n.');
      await until(() => hop.dataStarted > started, 'the message to reach the next hop');
      process.kill(relay.relayPid, 'SIGINT');
      relay.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(alive(relay.relayPid), 'a repeated SIGINT does not cut the drain short');
      release();
      assert.match(await reply, /^250 /);
      assert.equal(await relay.exited, 0);
    } finally {
      hop.hold = undefined;
      release();
      relay.kill('SIGKILL');
    }
  });

  it('bin/sigops killed outright (SIGKILL): the relay does not live on without it', async () => {
    const relay = await startRelayProcess(args(), { env: NO_OPERATOR_FLAGS });
    relay.child.kill('SIGKILL'); // the parent only: the relay must notice on its own
    await once(relay.child, 'exit');
    await until(() => !alive(relay.relayPid), 'the orphaned relay to stop', 5000);
  });
});

describe('sigops relay --require-client-cert (command line)', () => {
  let dir: string;
  let ca: TestCa;
  let hop: NextHop;
  let relay: RelayProcess;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-deploy-cert-'));
    ca = TestCa.create('sigops e2e client CA');
    hop = await startNextHop();
    await writeFile(join(dir, 'hop-ca.pem'), hop.cert);
    await writeFile(join(dir, 'client-ca.pem'), ca.cert);
    relay = await startRelayProcess([
      '--config', join(PROJECT, 'example-config'), '--deliver', `smtp://127.0.0.1:${hop.port}`, '--deliver-ca', join(dir, 'hop-ca.pem'),
      '--state', join(dir, 'state'), '--require-client-cert', 'mail.protection.outlook.com', '--client-ca', join(dir, 'client-ca.pem'),
    ]);
  });
  after(async () => {
    relay.kill('SIGKILL');
    await relay.exited;
    await hop.close();
    ca.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('relays for Exchange Online\'s certificate, defers anyone else at MAIL FROM', async () => {
    const env = { from: 'alice@contoso.com', to: ['bob@example.org'] };
    const exchange = await send(relay.smtpPort, env, message(), { clientCertificate: ca.issue('mail.protection.outlook.com') });
    assert.equal(exchange.ok, true, exchange.response);
    const stranger = await send(relay.smtpPort, env, message());
    assert.equal(stranger.code, 451);
    assert.match(stranger.response ?? '', /^451 4\.7\.1 Client certificate required/);
    assert.equal(hop.messages.length, 1);
    assert.ok(relay.logs.some((l) => l.msg === 'relay listening' && l.clientCertificate === 'mail.protection.outlook.com'));
    assert.ok(relay.logs.some((l) => l.msg === 'client certificate refused; its mail gets 451 4.7.1 at MAIL FROM' && l.reason === 'client-cert-missing'));
  });

  it('--client-ca without --require-client-cert does not start', async () => {
    await assert.rejects(startRelayProcess(['--config', join(PROJECT, 'example-config'), '--outbox', join(dir, 'out'), '--client-ca', join(dir, 'client-ca.pem')]), /exited with 1/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
