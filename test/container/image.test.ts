// The container image (Dockerfile), built and run for real with podman: built from a Node 20 base
// made here (no registry needed, test/container/podman.ts) with npm working offline from this
// machine's npm cache, then run with the example config, configured through SIGOPS_* variables
// and arguments after the image name, delivering to a fake next hop on the host. A message sent
// with STARTTLS comes out signed; /healthz and the image's HEALTHCHECK answer; the relay runs as
// a non-root user as PID 1; the image holds no package manager, build tool or dependency tree;
// --repo clones with the image's git; `podman stop` (SIGTERM) lets a message in flight finish and
// the relay exit 0.
//
// Slow (a minute or two): not part of `npm test`, run by `npm run test:container` (CI: its own
// step). Skipped when podman or mmdebstrap is missing, unless SIGOPS_REQUIRE_CONTAINER=1 (CI).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT } from '../e2e/relay-process.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { CONTOSO, decodeQp, replyMessage, send, until } from '../relay/helpers.ts';
import { baseImage, missingTools, Podman } from './podman.ts';

const IMAGE = 'localhost/sigops:test';
const CONTAINER = 'sigops-relay-test';

const missing = missingTools();
const required = process.env.SIGOPS_REQUIRE_CONTAINER === '1';
const skip = missing && !required ? `${missing}: the container image test needs both (SIGOPS_REQUIRE_CONTAINER=1 makes this a failure)` : false;

/** A port nothing listens on now (the relay binds it in the container, on the host's network). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The container's output (the relay logs JSON lines to stderr; podman may hand them on either stream). */
async function logs(podman: Podman): Promise<string> {
  const r = await podman.exec(['logs', CONTAINER]);
  return r.stdout + r.stderr;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

describe('container image (Dockerfile, podman)', { skip }, () => {
  let dir: string;
  let podman: Podman;
  let hop: NextHop;
  let smtpPort: number;
  let httpPort: number;
  const timings: string[] = [];

  before(async () => {
    if (missing) throw new Error(`SIGOPS_REQUIRE_CONTAINER=1 but ${missing}`);
    dir = mkdtempSync(join(tmpdir(), 'sigops-image-'));
    podman = new Podman(join(dir, 'podman'));
    chmodSync(dir, 0o755);

    const base = await baseImage(podman);
    timings.push(base.made ? `base made with mmdebstrap in ${base.seconds.mmdebstrap.toFixed(1)} s` : 'base from the cache', `base imported in ${base.seconds.import.toFixed(1)} s`);

    // npm ci in the build stage runs offline from a copy of this machine's npm cache (it writes to
    // the cache, and this one stays untouched); `--network none` proves nothing is fetched.
    const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
    cpSync(npmCache, join(dir, 'npm-cache'), { recursive: true, filter: (src) => !src.includes('/_logs') });
    let started = Date.now();
    await podman.ok([
      'build', '--format', 'docker', '--pull=never', '--network', 'none',
      '--build-arg', `BASE=${base.name}`, '--build-arg', 'NPM_CI_FLAGS=--offline',
      '--volume', `${join(dir, 'npm-cache')}:/root/.npm`,
      '--tag', IMAGE, PROJECT,
    ]);
    timings.push(`image built in ${seconds(started)} s`);
    const size = Number((await podman.ok(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    timings.push(`image ${(size / 1e6).toFixed(0)} MB (base ${(Number((await podman.ok(['image', 'inspect', '--format', '{{.Size}}', base.name])).trim()) / 1e6).toFixed(0)} MB)`);

    hop = await startNextHop();
    writeFileSync(join(dir, 'hop-ca.pem'), hop.cert, { mode: 0o644 });
    const config = join(dir, 'config');
    cpSync(join(PROJECT, 'example-config'), config, { recursive: true });
    execFileSync('chmod', ['-R', 'a+rX', config]);
    smtpPort = await freePort();
    httpPort = await freePort();
    started = Date.now();
    await podman.ok([
      'run', '--detach', '--name', CONTAINER, '--network', 'host',
      '--volume', 'sigops-state:/var/lib/sigops',
      '--volume', `${config}:/config:ro`,
      '--volume', `${join(dir, 'hop-ca.pem')}:/run/hop-ca.pem:ro`,
      '--env', 'SIGOPS_CONFIG=/config',
      '--env', `SIGOPS_DELIVER=smtp://127.0.0.1:${hop.port}`,
      '--env', 'SIGOPS_DELIVER_CA=/run/hop-ca.pem',
      '--env', `SIGOPS_LISTEN=127.0.0.1:${smtpPort}`,
      '--env', `SIGOPS_HTTP=127.0.0.1:${httpPort}`,
      IMAGE,
      // arguments after the image name are relay flags too
      '--hostname', 'relay.container.test', '--deliver-timeout', '5',
    ]);
    await until(async () => (await logs(podman)).includes('"msg":"relay listening"'), 'the relay in the container to listen', 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}:\n${await logs(podman)}`);
    });
    timings.push(`relay listening ${seconds(started)} s after podman run`);
  }, { timeout: 900_000 });

  after(async () => {
    for (const line of timings) console.log(`container image: ${line}`);
    await hop?.close();
    await podman?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, { timeout: 120_000 });

  it('signs a message sent with STARTTLS and delivers it to the next hop', async () => {
    const res = await send(smtpPort, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage({ tenantId: CONTOSO }));
    assert.equal(res.ok, true, res.response);
    const got = hop.messages.at(-1)!;
    assert.equal(got.secure, true, 'delivered over STARTTLS, the next hop verified with --deliver-ca');
    const text = decodeQp(got.raw.toString('utf8'));
    const newest = text.indexOf('NEWEST-REPLY-TEXT');
    const sig = text.indexOf('Sales Lead');
    const quote = text.indexOf('> Could you send');
    assert.ok(newest > 0 && sig > newest && sig < quote, `signature (${sig}) between newest text (${newest}) and quote (${quote})`);
    // received over STARTTLS (ESMTPS), under the --hostname given after the image name
    assert.match(text, /^Received: from [^\r\n]*\r\n\tby relay\.container\.test \(sigops\) with ESMTPS /m);
    assert.equal(text.match(/^X-Sigops-Processed: true\r$/gm)?.length, 1);
    // the usage record lands in the state volume
    const month = new Date().toISOString().slice(0, 7);
    await until(async () => (await podman.exec(['exec', CONTAINER, 'cat', `/var/lib/sigops/state/usage-${month}.tsv`])).stdout.includes('alice@contoso.com'), 'usage record');
  });

  it('answers /healthz, and the image HEALTHCHECK passes', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    assert.equal(res.status, 200);
    const healthcheck = JSON.parse(await podman.ok(['image', 'inspect', '--format', '{{json .HealthCheck}}', IMAGE])) as { Test: string[] };
    assert.deepEqual(healthcheck.Test, ['CMD', 'node', '/app/healthcheck.mjs']);
    const r = await podman.exec(['healthcheck', 'run', CONTAINER]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('runs the relay as PID 1 under a non-root user', async () => {
    assert.equal((await podman.ok(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE])).trim(), '1000:1000');
    const pid1 = await podman.ok(['exec', CONTAINER, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; id -u; id -g']);
    const [cmdline, uid, gid] = pid1.trim().split('\n');
    assert.equal(cmdline!.trim(), 'node --max-semi-space-size=4 /app/sigops.mjs relay --hostname relay.container.test --deliver-timeout 5');
    assert.equal(uid, '1000');
    assert.equal(gid, '1000');
    assert.equal((await podman.ok(['image', 'inspect', '--format', '{{.Config.StopSignal}}', IMAGE])).trim(), 'SIGTERM');
  });

  it('holds no package manager, build tool, TypeScript or dependency tree', async () => {
    const r = await podman.ok([
      'run', '--rm', '--entrypoint', 'sh', IMAGE, '-c',
      'for t in npm npx corepack yarn tsc tsx esbuild gcc cc make; do command -v "$t"; done; ' +
      'find / -xdev \\( -name node_modules -o -name "*.ts" -o -name typescript -o -name esbuild \\) -print; ls /app | LC_ALL=C sort',
    ]);
    assert.deepEqual(r.trim().split('\n'), ['healthcheck.mjs', 'sign-worker.mjs', 'sigops.mjs']);
  });

  it('follows a config repository with --repo (git in the image, the clone in the state volume)', async () => {
    const repo = join(dir, 'config.git');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', join(dir, 'config')]);
    const git = (...args: string[]) => execFileSync('git', ['-C', join(dir, 'config'), '-c', 'user.name=test', '-c', 'user.email=test@example.org', ...args], { encoding: 'utf8' }).trim();
    git('add', '.');
    git('commit', '--quiet', '-m', 'example config');
    execFileSync('git', ['clone', '--quiet', '--bare', join(dir, 'config'), repo]);
    execFileSync('chmod', ['-R', 'a+rX', repo]);
    // the bare repository belongs to another user than the relay's: git reads it only when a
    // global config says it may (the variables of `git -c` do not reach a local clone's upload-pack)
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'home', '.gitconfig'), '[safe]\n\tdirectory = *\n', { mode: 0o644 });
    chmodSync(join(dir, 'home'), 0o755);
    const port = await freePort();
    await podman.ok([
      'run', '--detach', '--name', `${CONTAINER}-repo`, '--network', 'host',
      '--volume', 'sigops-state-repo:/var/lib/sigops', '--volume', `${repo}:/config.git:ro`,
      '--volume', `${join(dir, 'home')}:/home/test:ro`, '--env', 'HOME=/home/test',
      '--env', 'SIGOPS_REPO=file:///config.git', '--env', 'SIGOPS_OUTBOX=/var/lib/sigops/outbox',
      '--env', `SIGOPS_LISTEN=127.0.0.1:${port}`, '--env', 'SIGOPS_HTTP=127.0.0.1:0',
      IMAGE,
    ]);
    const repoLogs = async () => {
      const r = await podman.exec(['logs', `${CONTAINER}-repo`]);
      return r.stdout + r.stderr;
    };
    await until(async () => (await repoLogs()).includes('"msg":"relay listening"'), 'the relay on --repo to listen', 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}:\n${await repoLogs()}`);
    });
    const head = await podman.ok(['exec', `${CONTAINER}-repo`, 'git', '-C', '/var/lib/sigops/.sigops-config', 'rev-parse', 'HEAD']);
    assert.equal(head.trim(), git('rev-parse', 'HEAD'));
    const res = await send(port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage({ tenantId: CONTOSO }));
    assert.equal(res.ok, true, res.response);
    await until(async () => (await podman.exec(['exec', `${CONTAINER}-repo`, 'ls', '/var/lib/sigops/outbox'])).stdout.includes('.eml'), 'the signed message in the outbox');
    await podman.ok(['rm', '--force', '--time', '10', `${CONTAINER}-repo`]);
  });

  it('stops on SIGTERM (podman stop): the message in flight is delivered, exit status 0', async () => {
    let release!: () => void;
    hop.hold = new Promise<void>((r) => (release = r));
    const before = hop.dataStarted;
    const sending = send(smtpPort, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage({ tenantId: CONTOSO }));
    await until(() => hop.dataStarted > before, 'the message to reach the next hop');
    const started = Date.now();
    const stopping = podman.exec(['stop', '--time', '30', CONTAINER]);
    await until(async () => (await logs(podman)).includes('"msg":"stopping: no new mail, finishing messages in flight"'), 'the relay to start draining');
    release();
    hop.hold = undefined;
    const res = await sending;
    assert.equal(res.ok, true, res.response);
    const stop = await stopping;
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - started < 25_000, 'stopped by SIGTERM, not killed after the stop timeout');
    assert.equal((await podman.ok(['inspect', '--format', '{{.State.ExitCode}}', CONTAINER])).trim(), '0');
    assert.match(await logs(podman), /"drained":true[^\n]*"msg":"relay stopped"/);
  });
});
