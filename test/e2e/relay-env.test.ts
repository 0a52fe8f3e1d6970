// `sigops relay` configured through SIGOPS_* variables instead of flags (as the container image
// runs it): the variables take effect, and a flag on the command line wins over its variable.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { relayEnvName } from '../../src/cli/commands/relay.ts';
import { CONTOSO, replyMessage, send, until } from '../relay/helpers.ts';
import { PROJECT, startRelayProcess } from './relay-process.ts';

test('the variable of a flag: SIGOPS_ and the flag in capitals', () => {
  assert.equal(relayEnvName('--deliver-timeout'), 'SIGOPS_DELIVER_TIMEOUT');
  assert.equal(relayEnvName('--config'), 'SIGOPS_CONFIG');
  assert.equal(relayEnvName('--require-client-cert'), 'SIGOPS_REQUIRE_CLIENT_CERT');
});

test('relay flags from the environment; the command line wins', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sigops-env-'));
  // startRelayProcess passes --listen 127.0.0.1:0 and --http 127.0.0.1:0: those must win over
  // the variables, which name ports nothing could bind
  const relay = await startRelayProcess([], {
    env: {
      SIGOPS_CONFIG: join(PROJECT, 'example-config'),
      SIGOPS_OUTBOX: join(dir, 'outbox'),
      SIGOPS_STATE: join(dir, 'state'),
      SIGOPS_HOSTNAME: 'relay.env.test',
      SIGOPS_LISTEN: '192.0.2.1:1',
      SIGOPS_HTTP: '192.0.2.1:1',
    },
  });
  try {
    assert.notEqual(relay.smtpPort, 1);
    const res = await send(relay.smtpPort, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage({ tenantId: CONTOSO }));
    assert.equal(res.ok, true, res.response);
    let files: string[] = [];
    await until(async () => (files = await readdir(join(dir, 'outbox')).catch(() => [])).length > 0, 'the message in the outbox');
    const text = await readFile(join(dir, 'outbox', files[0]!), 'utf8');
    assert.match(text, /^\tby relay\.env\.test \(sigops\)/m);
    await until(async () => (await readdir(join(dir, 'state')).catch(() => [])).some((f) => f.startsWith('usage-')), 'a usage record in SIGOPS_STATE');
  } finally {
    relay.kill('SIGTERM');
    await relay.exited;
    await rm(dir, { recursive: true, force: true });
  }
});
