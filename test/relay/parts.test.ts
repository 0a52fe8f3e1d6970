// Small parts of the relay: allow-list, Received header, reply mapping, host:port parsing, usage.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AllowList, EXCHANGE_ONLINE_RANGES } from '../../src/relay/allowlist.ts';
import { parseHostPort } from '../../src/relay/delivery.ts';
import { deliveryError, recipientFailure } from '../../src/relay/errors.ts';
import { receivedHeader } from '../../src/relay/received.ts';
import { UsageRecorder, readUsage, renderUsage } from '../../src/relay/usage.ts';

describe('AllowList', () => {
  it('matches IPv4, IPv6 and IPv4-mapped addresses against CIDRs', () => {
    const a = new AllowList(['exchange-online', '192.0.2.7']);
    assert.equal(a.entries.length, EXCHANGE_ONLINE_RANGES.length + 1);
    assert.equal(a.allows('40.107.22.5'), true);
    assert.equal(a.allows('::ffff:52.101.1.1'), true);
    assert.equal(a.allows('2a01:111:f400:fe00::1'), true);
    assert.equal(a.allows('192.0.2.7'), true);
    assert.equal(a.allows('192.0.2.8'), false);
    assert.equal(a.allows('8.8.8.8'), false);
    assert.equal(a.allows('not-an-ip'), false);
  });
  it('refuses nonsense', () => {
    assert.throws(() => new AllowList(['10.0.0.0/33']), /invalid prefix/);
    assert.throws(() => new AllowList(['example.com']), /not an IP/);
  });
});

describe('receivedHeader', () => {
  it('names the client, the relay, TLS, id and date, and strips anything that could break the header', () => {
    const h = receivedHeader({
      helo: 'mail.evil\r\nX-Injected: 1',
      remoteAddress: '::ffff:40.107.1.2',
      hostname: 'relay.sigops.example.net',
      tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      id: 'abc-1',
      date: new Date(Date.UTC(2026, 10, 22, 8, 5, 9)),
    });
    assert.equal(
      h,
      'Received: from mail.evilX-Injected:1 ([40.107.1.2])\r\n\tby relay.sigops.example.net (sigops) with ESMTPS (TLSv1.3 TLS_AES_256_GCM_SHA384) id abc-1;\r\n\tSun, 22 Nov 2026 08:05:09 +0000\r\n',
    );
  });
});

describe('reply mapping', () => {
  it('maps next-hop failures to upstream answers', () => {
    const m = (e: object) => {
      const r = deliveryError(e, 'hop:25');
      return `${r.smtpCode} ${r.enhanced}`;
    };
    assert.equal(m({ code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 127.0.0.1:25' }), '451 4.4.1');
    assert.equal(m({ code: 'ETIMEDOUT', command: 'CONN', message: 'Timeout' }), '451 4.4.1');
    assert.equal(m({ code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' }), '451 4.4.2');
    assert.equal(m({ code: 'EMESSAGE', responseCode: 452, response: '452 4.3.1 Insufficient system resources' }), '451 4.4.0');
    assert.equal(m({ code: 'EMESSAGE', responseCode: 554, response: '554 5.6.0 bad' }), '554 5.6.0');
    assert.equal(m({ code: 'EMESSAGE', responseCode: 550, response: '550 no enhanced code' }), '550 5.0.0');
    // a 5xx at a step that is no verdict on the message (or at no known step) is kept and retried
    assert.equal(m({ code: 'EENVELOPE', responseCode: 550, response: '550 no enhanced code' }), '451 4.3.0');
    assert.equal(m({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 550, response: '550 5.7.1 no' }), '451 4.3.5');
    assert.equal(m({ code: 'ETLS', command: 'STARTTLS', responseCode: 502, response: '502 5.5.1 not implemented' }), '451 4.7.4');
    assert.equal(m(new Error('something odd')), '451 4.3.0');
  });
  it('partial recipient refusals: any temporary one defers the whole message', () => {
    const t = recipientFailure(['a@x', 'b@x'], [{ responseCode: 550, response: '550 5.1.1 no' }, { responseCode: 451, response: '451 4.2.1 later' }], 'hop');
    assert.equal(t.smtpCode, 451);
    const p = recipientFailure(['a@x'], [{ responseCode: 553, response: '553 5.1.3 bad' }], 'hop');
    assert.equal(`${p.smtpCode} ${p.enhanced}`, '553 5.1.3');
  });
});

describe('parseHostPort', () => {
  it('reads smtp:// URLs, host:port and IPv6 literals', () => {
    assert.deepEqual(parseHostPort('smtp://127.0.0.1:2526'), { host: '127.0.0.1', port: 2526 });
    assert.deepEqual(parseHostPort('contoso-com.mail.protection.outlook.com'), { host: 'contoso-com.mail.protection.outlook.com', port: 25 });
    assert.deepEqual(parseHostPort('[::1]:25'), { host: '::1', port: 25 });
    assert.throws(() => parseHostPort('127.0.0.1:0'), /invalid port/);
    assert.deepEqual(parseHostPort('127.0.0.1:0', 25, true), { host: '127.0.0.1', port: 0 });
  });
});

describe('usage', () => {
  it('records each sender once per tenant and month, and survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-usage-'));
    try {
      const nov = new Date(Date.UTC(2026, 10, 5));
      const u = new UsageRecorder(dir);
      await u.record('t1', 'contoso', 'Alice@Contoso.com', nov);
      await u.record('t1', 'contoso', 'alice@contoso.com', nov);
      await u.record('t1', 'contoso', 'bob@contoso.com', nov);
      await u.record('t2', 'fabrikam', 'alice@contoso.com', nov);
      await u.record('t1', 'contoso', 'carol@contoso.com', new Date(Date.UTC(2026, 11, 1)));
      const again = new UsageRecorder(dir); // a restarted relay does not write duplicates
      await again.record('t1', 'contoso', 'bob@contoso.com', nov);
      assert.equal((await readFile(join(dir, 'usage-2026-11.tsv'), 'utf8')).trim().split('\n').length, 3);
      const report = await readUsage(dir, '2026-11');
      assert.deepEqual(report.tenants, [
        { tenantId: 't1', tenant: 'contoso', senders: 2 },
        { tenantId: 't2', tenant: 'fabrikam', senders: 1 },
      ]);
      assert.equal((await readUsage(dir, '2026-12')).total, 1);
      assert.match(renderUsage(report, 'text'), /total\s+3/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
