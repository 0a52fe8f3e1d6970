// Fail open, on purpose: whatever goes wrong with the signature (a template that throws while
// rendering, one that does not compile, one that is missing, a policy that throws, the signing
// engine or its worker failing, a directory that is missing), the message is delivered (250),
// the reason is counted, and the answer is never a 5xx. Policies here are compiled from configs
// built in code with the real compiler, so the templates really fail the way they would.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigRepo, Directory, Rule, Template, Tenant } from '../../src/model/index.ts';
import { directoryFromData } from '../../src/directory/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import type { HeldPart } from '../../src/mime/rewrite.ts';
import type { PartSigner, PartsResult } from '../../src/mime/parts.ts';
import { compilePolicy, type Policy, type TenantPolicy } from '../../src/policy/index.ts';
import { runRelay } from '../../src/relay/index.ts';
import { startNextHop, type NextHop } from '../fakes/next-hop.ts';
import { CONTOSO, decodeQp, makePolicy, message, replyMessage, send, standardTenants, startTestRelay, tenant } from './helpers.ts';

const PROJECT = new URL('../..', import.meta.url).pathname;

function rule(name: string, extra: Partial<Rule> = {}): Rule {
  return {
    name,
    when: { attributes: {}, recipients: 'any' },
    signature: 'sig',
    disclaimer: 'legal',
    placement: 'reply',
    position: { file: 'tenants/contoso.yaml', line: 1, col: 1 },
    ...extra,
  };
}

const TEMPLATES: Template[] = [
  { name: 'sig', html: '<p>SIG {{user.displayName}} <a href="https://people.example/?q={{urlencode user.displayName}}">card</a></p>', htmlFile: 'templates/sig.html.hbs' },
  { name: 'legal', html: '<p>LEGAL-NOTICE</p>', htmlFile: 'templates/legal.html.hbs', text: 'LEGAL-NOTICE', textFile: 'templates/legal.txt.hbs' },
  { name: 'broken', html: '<p>{{unknownHelper user.displayName}}</p>', htmlFile: 'templates/broken.html.hbs' },
];

function policyOf(o: { rules?: Rule[]; templates?: Template[]; directory?: Directory | 'none' } = {}): Policy {
  const t: Tenant = { ...tenant('contoso', CONTOSO, ['contoso.com']), rules: o.rules ?? [rule('default')] };
  const directory =
    o.directory === 'none'
      ? undefined
      : (o.directory ??
        directoryFromData({
          users: [
            { email: 'alice@contoso.com', displayName: 'Alice Example' },
            // a lone surrogate: valid YAML, valid JSON, but encodeURIComponent throws on it
            { email: 'odd@contoso.com', displayName: 'Odd \uD800 Name' },
          ],
        }).directory);
  const repo: ConfigRepo = {
    root: '/config',
    tenants: [t],
    templates: new Map((o.templates ?? TEMPLATES).map((x) => [x.name, x])),
    directories: new Map(directory ? [['contoso', directory]] : []),
  };
  return compilePolicy(repo);
}

/** The standard test tenants, every one deciding with `decide` (the same objects for every lookup, as authorise requires). */
function deciding(decide: TenantPolicy['decide']): Policy {
  const base = makePolicy(standardTenants());
  const wrapped = new Map(base.tenants.map((tp) => [tp, { tenant: tp.tenant, decide } as TenantPolicy]));
  const w = (tp: TenantPolicy | undefined) => (tp ? wrapped.get(tp) : undefined);
  return {
    tenants: [...wrapped.values()],
    tenantById: (id) => w(base.tenantById(id)),
    tenantForDomain: (d) => w(base.tenantForDomain(d)),
    tenantForSender: (a) => w(base.tenantForSender(a)),
  };
}

/** Blocks whose HTML cannot be read: stands for any exception inside the insertion. */
function explodingBlocks(): { html: string; text: string } {
  return Object.defineProperty({ text: '-- SIG ' }, 'html', {
    enumerable: true,
    get: () => {
      throw new RangeError('insertion failed');
    },
  }) as { html: string; text: string };
}

describe('fail open: the signature fails, the mail goes out', () => {
  let hop: NextHop;
  before(async () => {
    hop = await startNextHop();
  });
  after(async () => {
    await hop.close();
  });

  /** Sends as `from` through a relay with `policy`; the message must arrive, unsigned, with `reason` counted. */
  async function deliveredUnsigned(policy: Policy, reason: string, o: { from?: string; signer?: PartSigner; raw?: string } = {}): Promise<string> {
    const r = await startTestRelay({ nextHop: hop, policy, signer: o.signer });
    try {
      const n = hop.messages.length;
      const from = o.from ?? 'alice@contoso.com';
      const res = await send(r.port, { from, to: ['bob@example.org'] }, o.raw ?? message({ from }));
      assert.equal(res.ok, true, `delivered, not refused: ${res.response}`);
      assert.match(res.response ?? '', /^250 /);
      assert.equal(hop.messages.length, n + 1);
      const text = decodeQp(hop.messages.at(-1)!.raw.toString('utf8'));
      assert.doesNotMatch(text, /SIG |LEGAL-NOTICE/, 'no part of the signature went out');
      assert.match(text, /X-Sigops-Processed: true/);
      assert.match(await r.metrics.registry.metrics(), new RegExp(`sigops_relay_messages_total\\{outcome="passed",reason="${reason}",tenant="contoso"\\} 1`));
      return text;
    } finally {
      await r.stop();
    }
  }

  it('works when nothing fails (the templates below are fine for ordinary senders)', async () => {
    const r = await startTestRelay({ nextHop: hop, policy: policyOf() });
    try {
      const res = await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message());
      assert.equal(res.ok, true, res.response);
      assert.match(decodeQp(hop.messages.at(-1)!.raw.toString('utf8')), /SIG Alice Example[\s\S]*LEGAL-NOTICE/);
    } finally {
      await r.stop();
    }
  });

  it('a template that throws while rendering (a helper fed data it cannot take): unsigned, render-failed', async () => {
    await deliveredUnsigned(policyOf(), 'render-failed', { from: 'odd@contoso.com' });
  });

  it('a template that does not compile: unsigned, render-failed', async () => {
    await deliveredUnsigned(policyOf({ rules: [rule('default', { signature: 'broken' })] }), 'render-failed');
  });

  it('a rule naming a template that is missing: unsigned, render-failed', async () => {
    await deliveredUnsigned(policyOf({ rules: [rule('default', { signature: 'gone' })] }), 'render-failed');
  });

  it('a policy that throws (a bug): unsigned, render-failed', async () => {
    await deliveredUnsigned(deciding(() => { throw new TypeError("Cannot read properties of undefined (reading 'x')"); }), 'render-failed');
  });

  it('the signing engine fails while inserting the signature: the original message, unsigned, sign-failed', async () => {
    const policy = deciding(() => ({ kind: 'sign', rule: 'default', placement: 'reply', blocks: explodingBlocks() }));
    const text = await deliveredUnsigned(policy, 'sign-failed', { raw: replyMessage() });
    assert.match(text, /NEWEST-REPLY-TEXT[\s\S]*QUOTED-THREAD-TEXT/, 'the message itself is whole');
  });

  it('adding the signature\'s images fails: the original message, unsigned, images-failed', async () => {
    // image bytes that cannot be read stand for any exception while the new MIME structure is written
    const data = new Proxy(new Uint8Array(8), { get: (t, k) => { if (k === 'buffer') throw new Error('image unreadable'); return Reflect.get(t, k) as unknown; } });
    const images = [{ contentId: '00.logo.png@sigops', name: 'logo.png', mime: 'image/png' as const, data }];
    const policy = deciding(() => ({ kind: 'sign', rule: 'default', placement: 'reply', blocks: { html: '<p>SIG <img src="cid:00.logo.png@sigops"></p>', text: '-- SIG ', images } }));
    const text = await deliveredUnsigned(policy, 'images-failed', { raw: replyMessage() });
    assert.match(text, /NEWEST-REPLY-TEXT[\s\S]*QUOTED-THREAD-TEXT/, 'the message itself is whole');
    assert.doesNotMatch(text, /@sigops/);
  });

  it('the signing worker fails and so does signing on the event loop: unsigned, sign-failed', async () => {
    const failingWorker: PartSigner = { minBytes: 1, sign: async (_p: readonly HeldPart[]): Promise<PartsResult> => { throw new Error('worker died'); } };
    const policy = deciding(() => ({ kind: 'sign', rule: 'default', placement: 'reply', blocks: explodingBlocks() }));
    await deliveredUnsigned(policy, 'sign-failed', { signer: failingWorker, raw: replyMessage() });
  });

  it('the signing worker never answers: the parts pass unchanged once it gives up', async () => {
    const stuck: PartSigner = { minBytes: 1, sign: async () => ({ kind: 'gave-up', detail: 'signing took longer than 10000 ms' }) };
    await deliveredUnsigned(makePolicy(standardTenants(), 'SIG '), 'too-large', { signer: stuck, raw: replyMessage() });
  });

  it('a tenant without a directory (no Graph snapshot yet): delivered, signed with what the From header says, counted', async () => {
    const r = await startTestRelay({ nextHop: hop, policy: policyOf({ directory: 'none' }) });
    try {
      const res = await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message());
      assert.equal(res.ok, true, res.response);
      // the legal notice does not depend on the directory: dropping it would be worse than a short signature
      assert.match(decodeQp(hop.messages.at(-1)!.raw.toString('utf8')), /SIG Alice Example[\s\S]*LEGAL-NOTICE/);
      const metrics = await r.metrics.registry.metrics();
      assert.match(metrics, /sigops_relay_messages_total\{outcome="signed",reason="default",tenant="contoso"\} 1/);
      assert.match(metrics, /sigops_relay_signed_without_directory_total\{tenant="contoso"\} 1/);
    } finally {
      await r.stop();
    }
  });

  it('a sender missing from an empty directory: the same', async () => {
    const r = await startTestRelay({ nextHop: hop, policy: policyOf({ directory: directoryFromData({ users: [] }).directory }) });
    try {
      const res = await send(r.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, message());
      assert.equal(res.ok, true, res.response);
      assert.match(await r.metrics.registry.metrics(), /sigops_relay_signed_without_directory_total\{tenant="contoso"\} 1/);
    } finally {
      await r.stop();
    }
  });
});

describe('fail open: a directory file removed from the config repository while the relay runs', () => {
  it('the reload is refused and the last good config keeps signing; no message is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigops-fail-open-'));
    const hop = await startNextHop();
    try {
      const cfg = join(dir, 'config');
      await cp(join(PROJECT, 'example-config'), cfg, { recursive: true });
      const relay = await runRelay({
        config: cfg,
        listen: { host: '127.0.0.1', port: 0 },
        deliver: { host: '127.0.0.1', port: hop.port },
        deliverCa: hop.cert,
        stateDir: join(dir, 'state'),
        log: silentLogger(),
        watchDebounceMs: 60_000,
      });
      try {
        const contoso = await readFile(join(cfg, 'tenants', 'contoso.yaml'), 'utf8');
        const file = /file: (\S+)/.exec(contoso.slice(contoso.indexOf('directory:')))?.[1];
        assert.ok(file, 'example tenant reads a directory file');
        await rm(join(cfg, file));
        assert.equal(await relay.store.reload('test'), false);
        assert.match((relay.store.lastReload?.errors ?? []).join('\n'), /directory file .* does not exist/);
        const res = await send(relay.smtp.port, { from: 'alice@contoso.com', to: ['bob@example.org'] }, replyMessage());
        assert.equal(res.ok, true, res.response);
        assert.match(await relay.metrics.registry.metrics(), /sigops_relay_messages_total\{outcome="signed",reason="[^"]+",tenant="contoso"\} 1/);
      } finally {
        await relay.stop(1000);
      }
    } finally {
      await hop.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
