// `sigops relay` as a process on a git clone of example-config, with swaks and nodemailer as
// clients and a capturing next hop: hot reload, SIGTERM drain, crash mid-DATA.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { simpleGit } from 'simple-git';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { RawSmtp, decodeQp, message, replyMessage, send, until } from '../relay/helpers.ts';
import { getJson, PROJECT, startRelayProcess, type RelayProcess } from './relay-process.ts';

const run = promisify(execFile);
const CONTOSO = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
const NORTHWIND = '5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5';

async function configClone(dir: string): Promise<string> {
  const cfg = join(dir, 'config');
  await cp(join(PROJECT, 'example-config'), cfg, { recursive: true });
  const git = simpleGit(cfg);
  await git.init();
  await git.addConfig('user.email', 'test@example.org').addConfig('user.name', 'test');
  await git.add('.');
  await git.commit('initial');
  return cfg;
}

async function swaks(port: number, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('swaks', ['--server', `127.0.0.1:${port}`, '--tls', '--timeout', '20', ...args]);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/** One persistent STARTTLS session, as Exchange keeps them. */
async function session(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.open(port);
  await c.cmd('EHLO outbound.protection.outlook.test');
  await c.starttls();
  await c.cmd('EHLO outbound.protection.outlook.test');
  return c;
}

async function sendOn(c: RawSmtp, from: string, to: string, raw: string): Promise<string> {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) return mail;
  const rcpt = await c.cmd(`RCPT TO:<${to}>`);
  if (!rcpt.startsWith('250')) return rcpt;
  const data = await c.cmd('DATA');
  if (!data.startsWith('354')) return data;
  return c.cmd(raw.replace(/\r\n\./g, '\r\n..') + '\r\n.');
}

describe('sigops relay (process) on a config clone', () => {
  let dir: string;
  let cfg: string;
  let hop: NextHop;
  let relay: RelayProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-e2e-'));
    cfg = await configClone(dir);
    hop = await startNextHop();
    await writeFile(join(dir, 'hop-ca.pem'), hop.cert);
    relay = await startRelayProcess([
      '--config', cfg, '--deliver', `smtp://127.0.0.1:${hop.port}`, '--deliver-ca', join(dir, 'hop-ca.pem'),
      '--deliver-timeout', '5', '--state', join(dir, 'state'), '--hostname', 'relay.e2e.test',
    ]);
  });
  after(async () => {
    relay.kill('SIGKILL');
    await relay.exited;
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('relays with swaks over STARTTLS and refuses an unknown tenant with 550 5.7.1', async () => {
    const n = hop.messages.length;
    const ok = await swaks(relay.smtpPort, [
      '--from', 'alice@contoso.com', '--to', 'bob@example.org', '--add-header', `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`,
    ]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /<~ {2}250 2\.6\.0 Relayed as /);
    assert.equal(hop.messages.length, n + 1);
    assert.equal(hop.messages.at(-1)!.from, 'alice@contoso.com');

    const bad = await swaks(relay.smtpPort, [
      '--from', 'alice@contoso.com', '--to', 'bob@example.org', '--add-header', `X-MS-Exchange-CrossTenant-Id: ${NORTHWIND}`,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /<~\* 550 5\.7\.1 Relaying denied: tenant 5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5 is not registered/);
    assert.equal(hop.messages.length, n + 1);

    const plain = await run('swaks', ['--server', `127.0.0.1:${relay.smtpPort}`, '--from', 'alice@contoso.com', '--to', 'bob@example.org', '--timeout', '20']).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
    );
    assert.match(plain.stdout, /530 5\.7\.0 Must issue a STARTTLS command first/);
  });

  it('signs with the example config: Alice\'s signature under her newest text, above the quote', async () => {
    const res = await send(relay.smtpPort, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage());
    assert.equal(res.ok, true, res.response);
    const got = hop.messages.at(-1)!;
    assert.equal(got.from, 'alice@contoso.com');
    const text = decodeQp(got.raw.toString('utf8'));
    const newest = text.indexOf('NEWEST-REPLY-TEXT');
    const sig = text.indexOf('Sales Lead');
    const quote = text.indexOf('> Could you send');
    assert.ok(newest > 0 && sig > newest && sig < quote, `signature (${sig}) between newest text (${newest}) and quote (${quote})`);
    assert.match(text, /^Received: from outbound|^Received: from /);
    assert.equal(text.match(/^X-Sigops-Processed: true\r$/gm)?.length, 1);
    // usage recorded for licensing
    await until(async () => (await readFile(join(dir, 'state', `usage-${new Date().toISOString().slice(0, 7)}.tsv`), 'utf8').catch(() => '')).includes('alice@contoso.com'), 'usage record');
  });

  it('serves metrics and health', async () => {
    const res = await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`);
    const text = await res.text();
    assert.match(text, /sigops_relay_messages_total\{outcome="signed",reason="[^"]*",tenant="contoso"\} \d/);
    assert.match(text, /sigops_relay_messages_total\{outcome="rejected",reason="tenant-unknown",tenant=""\} 1/);
    assert.match(text, /sigops_config_generation 1/);
    const ready = await getJson(relay.httpPort, '/readyz');
    assert.equal(ready.status, 200);
  });

  it('refuses a broken commit and keeps serving, then takes a good commit without dropping the connection', async () => {
    const c = await session(relay.smtpPort);
    try {
      assert.match(await sendOn(c, 'alice@contoso.com', 'bob@example.org', message()), /^250 /);
      // a broken commit: unknown key and a tenant file that is not valid
      const git = simpleGit(cfg);
      const contosoFile = join(cfg, 'tenants', 'contoso.yaml');
      const good = await readFile(contosoFile, 'utf8');
      await writeFile(contosoFile, good.replace('enabled: true', 'enabled: true\nfrobnicate: yes'));
      await git.add('.');
      await git.commit('broken');
      await until(async () => {
        const h = await getJson(relay.httpPort, '/healthz');
        const last = (h.body.config as { lastReload?: { ok: boolean } }).lastReload;
        return last?.ok === false;
      }, 'the broken commit to be refused');
      const health = await getJson(relay.httpPort, '/healthz');
      const cfgStatus = health.body.config as { generation: number; lastReload: { errors: string[] } };
      assert.equal(cfgStatus.generation, 1);
      assert.match(cfgStatus.lastReload.errors.join('\n'), /tenants\/contoso\.yaml:\d+:\d+ /);
      const metrics = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
      assert.match(metrics, /sigops_config_last_reload_success 0/);
      assert.match(metrics, /sigops_config_reloads_total\{result="failure"\} [1-9]/);
      // still relaying with the last good config, on the same connection
      assert.match(await sendOn(c, 'alice@contoso.com', 'bob@example.org', message()), /^250 /);

      // a good commit: fixed, and a new tenant
      await writeFile(contosoFile, good);
      const fabrikam = await readFile(join(cfg, 'tenants', 'fabrikam.yaml'), 'utf8');
      await writeFile(
        join(cfg, 'tenants', 'northwind.yaml'),
        fabrikam
          .replace(/^id: .*$/m, `id: ${NORTHWIND}`)
          .replace(/^name: .*$/m, 'name: Northwind Traders')
          .replace(/^domains: .*$/m, 'domains: [northwind.example]')
          .replace(/certificateDomain: .*/, 'certificateDomain: relay.northwind.example')
          .replace(/deliverTo: .*/, 'deliverTo: northwind-example.mail.protection.outlook.com'),
      );
      await git.add('.');
      await git.commit('northwind');
      const nw = () => message({ tenantIds: [NORTHWIND], from: 'nancy@northwind.example' });
      await until(async () => (await getJson(relay.httpPort, '/healthz')).body.config !== undefined &&
        ((await getJson(relay.httpPort, '/healthz')).body.config as { generation: number }).generation === 2, 'the good commit to load');
      assert.match(await sendOn(c, 'nancy@northwind.example', 'bob@example.org', nw()), /^250 /);
      assert.equal(hop.messages.at(-1)!.from, 'nancy@northwind.example');
    } finally {
      c.close();
    }
  });
});

describe('sigops relay (process): stopping', () => {
  let dir: string;
  let hop: NextHop;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigops-e2e-stop-'));
    hop = await startNextHop();
    await writeFile(join(dir, 'hop-ca.pem'), hop.cert);
  });
  after(async () => {
    await hop.close();
    await rm(dir, { recursive: true, force: true });
  });
  const args = () => ['--config', join(PROJECT, 'example-config'), '--deliver', `smtp://127.0.0.1:${hop.port}`, '--deliver-ca', join(dir, 'hop-ca.pem'), '--state', join(dir, 'state'), '--drain-timeout', '20'];

  it('on SIGTERM finishes the message in flight, refuses new connections, exits 0', async () => {
    const relay = await startRelayProcess(args());
    let release!: () => void;
    hop.hold = new Promise<void>((r) => (release = r));
    try {
      const c = await session(relay.smtpPort);
      const started = hop.dataStarted;
      const reply = sendOn(c, 'alice@contoso.com', 'bob@example.org', message());
      await until(() => hop.dataStarted > started, 'the message to reach the next hop');
      relay.kill('SIGTERM');
      await until(async () => {
        try {
          await RawSmtp.open(relay.smtpPort).then((x) => x.close());
          return false;
        } catch {
          return true;
        }
      }, 'the listener to close');
      release();
      assert.match(await reply, /^250 /);
      assert.equal(await relay.exited, 0);
    } finally {
      hop.hold = undefined;
      release();
      relay.kill('SIGKILL');
    }
  });

  it('killed in the middle of DATA: the client gets no 250 and the next hop no message', async () => {
    const relay = await startRelayProcess(args());
    const n = hop.messages.length;
    const started = hop.dataStarted;
    const c = await session(relay.smtpPort);
    assert.match(await c.cmd('MAIL FROM:<alice@contoso.com>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<bob@example.org>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    c.write(message({ body: 'first part of a long message\r\n'.repeat(50) }));
    await until(() => hop.dataStarted > started, 'the relay to start handing the message on');
    relay.kill('SIGKILL');
    assert.equal(await c.reply(), '', 'no reply at all, certainly no 250');
    await relay.exited;
    await until(() => hop.openConnections === 0, 'the next hop to see the connection go');
    assert.equal(hop.messages.length, n);
  });
});

describe('sigops relay (process): --allow-file', () => {
  it('refuses sources outside the listed ranges, and will not start with an empty list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-e2e-allow-'));
    try {
      await writeFile(join(dir, 'allow.txt'), '# Exchange Online only\nexchange-online\n10.20.0.0/16  # the admin network\n');
      const relay = await startRelayProcess(['--config', join(PROJECT, 'example-config'), '--outbox', join(dir, 'outbox'), '--state', join(dir, 'state'), '--allow-file', join(dir, 'allow.txt')]);
      try {
        await assert.rejects(RawSmtp.open(relay.smtpPort), /554 5\.7\.1 Your address is not allowed/);
      } finally {
        relay.kill('SIGKILL');
        await relay.exited;
      }
      await writeFile(join(dir, 'empty.txt'), '# nobody yet\n');
      await assert.rejects(startRelayProcess(['--config', join(PROJECT, 'example-config'), '--outbox', join(dir, 'outbox'), '--allow-file', join(dir, 'empty.txt')]), /exited with 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sigops usage', () => {
  it('reports distinct senders per tenant and month in text, csv and json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-usage-'));
    try {
      await writeFile(
        join(dir, 'usage-2026-11.tsv'),
        [`${CONTOSO}\tcontoso\talice@contoso.com`, `${CONTOSO}\tcontoso\tbob@contoso.com`, `${CONTOSO}\tcontoso\talice@contoso.com`, `x\tfabrikam\tf@fabrikam.com`, ''].join('\n'),
      );
      const cli = (...a: string[]) => run(process.execPath, ['bin/sigops', 'usage', '--state', dir, ...a], { cwd: PROJECT });
      const json = JSON.parse((await cli('--month', '2026-11', '--format', 'json')).stdout) as { tenants: Array<{ tenant: string; senders: number }>; total: number };
      assert.deepEqual(json.tenants.map((t) => [t.tenant, t.senders]), [['contoso', 2], ['fabrikam', 1]]);
      assert.equal(json.total, 3);
      assert.match((await cli('--month', '2026-11', '--format', 'csv')).stdout, /^month,tenant,tenant_id,senders\n2026-11,contoso,7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10,2\n/);
      assert.match((await cli('--month', '2026-11')).stdout, /contoso\s+2\s+7c1f3c55/);
      assert.match((await cli('--month', '2026-10')).stdout, /No signed mail recorded for 2026-10/);
      await assert.rejects(cli('--month', '2026-13'), /--month must be YYYY-MM/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
