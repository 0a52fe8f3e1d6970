// runRelay as the CLI assembles it: listener certificate from files, health endpoints, stop.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/log/index.ts';
import { runRelay } from '../../src/relay/index.ts';
import { startNextHop } from '../fakes/next-hop.ts';
import { RawSmtp } from './helpers.ts';

const run = promisify(execFile);

describe('runRelay', () => {
  it('serves the certificate given with --tls-cert/--tls-key and reports ready until stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-run-'));
    const hop = await startNextHop();
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', join(dir, 'relay.key'), '-out', join(dir, 'relay.crt'), '-subj', '/CN=relay.sigops.example.net']);
    const relay = await runRelay({
      config: new URL('../../example-config', import.meta.url).pathname,
      listen: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      deliver: { host: '127.0.0.1', port: hop.port },
      deliverCa: hop.cert,
      tlsCert: join(dir, 'relay.crt'),
      tlsKey: join(dir, 'relay.key'),
      stateDir: join(dir, 'state'),
      log: silentLogger(),
    });
    try {
      const c = await RawSmtp.open(relay.smtp.port);
      await c.cmd('EHLO client.test');
      await c.starttls();
      assert.equal((c.socket as TLSSocket).getPeerCertificate().subject.CN, 'relay.sigops.example.net');
      c.close();
      const httpPort = (relay.http!.address() as { port: number }).port;
      const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { config: { generation: number; tenants: number } };
      assert.deepEqual([body.config.generation, body.config.tenants], [1, 2]);
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/nope`)).status, 404);
    } finally {
      assert.deepEqual(await relay.stop(1000), { drained: true });
      await hop.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
