// The listener refuses TLS older than 1.2; the same client handshake works against an MTA that
// allows it (the fake next hop in legacy mode), so the client side of this test is real.
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { describe, it } from 'node:test';
import { startNextHop } from '../fakes/next-hop.ts';
import { RawSmtp, startTestRelay } from './helpers.ts';

async function tls11Handshake(port: number): Promise<'ok' | 'refused'> {
  const c = await RawSmtp.open(port);
  await c.cmd('EHLO client.test');
  const r = await c.cmd('STARTTLS');
  assert.match(r, /^220/);
  c.socket.removeAllListeners('data');
  const s = tlsConnect({ socket: c.socket, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  try {
    return await new Promise((resolve) => {
      s.once('secureConnect', () => resolve('ok'));
      s.once('error', () => resolve('refused'));
    });
  } finally {
    s.destroy();
  }
}

describe('listener TLS', () => {
  it('refuses TLS 1.1 (a legacy MTA accepts the same handshake)', async () => {
    const hop = await startNextHop({ legacyTls: true });
    const r = await startTestRelay({ nextHop: hop });
    try {
      assert.equal(await tls11Handshake(hop.port), 'ok');
      assert.equal(await tls11Handshake(r.port), 'refused');
      assert.equal(r.relay.server.options.minVersion, 'TLSv1.2');
    } finally {
      await r.stop();
      await hop.close();
    }
  });
});
