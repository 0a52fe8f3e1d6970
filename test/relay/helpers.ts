// Shared pieces of the relay tests: a hand-built Policy (the relay only sees the Policy
// interface), an in-process relay bound to port 0, an SMTP client over STARTTLS.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import nodemailer from 'nodemailer';
import { owningDomain, type Tenant } from '../../src/model/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import type { Policy, TenantPolicy } from '../../src/policy/types.ts';
import { AllowList } from '../../src/relay/allowlist.ts';
import { OutboxDelivery, SmtpDelivery, type Delivery } from '../../src/relay/delivery.ts';
import { RelayMetrics } from '../../src/relay/metrics.ts';
import { PolicyStore, type PolicyLoadResult } from '../../src/relay/policy-store.ts';
import { Relay, type RelayLimits } from '../../src/relay/server.ts';
import { UsageRecorder } from '../../src/relay/usage.ts';
import type { ClientCertificatePolicy } from '../../src/relay/client-cert.ts';
import type { PartSigner } from '../../src/relay/signing.ts';
import type { SentItemsIntake } from '../../src/sent-items/index.ts';
import { testCertificate } from '../fakes/next-hop.ts';

export const CONTOSO = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
export const FABRIKAM = '0b3e6f1d-8c2a-4e7b-9d10-5a6c7e8f9012';
export const PAUSED = 'aa5b2c3d-1111-4222-8333-944455566677';

export function tenant(slug: string, id: string, domains: string[], enabled = true, deliverPort = 9): Tenant {
  return {
    slug,
    id,
    name: slug,
    domains,
    enabled,
    exchange: {
      smartHost: 'relay.sigops.test',
      certificateDomain: `${slug}.relay.sigops.test`,
      deliverTo: { host: '127.0.0.1', port: deliverPort },
      senders: { kind: 'all' },
      internal: false,
    },
    directory: { source: 'file', file: `directory/${slug}.yaml` },
    rules: [],
    file: `tenants/${slug}.yaml`,
  };
}

/** A Policy whose tenants sign everything with a marker block (`label` tells generations apart). */
export function makePolicy(tenants: Tenant[], label = 'SIG-1'): Policy {
  const tps: TenantPolicy[] = tenants.map((t) => ({
    tenant: t,
    decide: () =>
      t.enabled
        ? { kind: 'sign', rule: 'default', placement: 'reply', blocks: { html: `<p>${label}</p>`, text: `-- ${label}` } }
        : { kind: 'skip', reason: 'tenant-paused' },
  }));
  return {
    tenants: tps,
    tenantById: (id) => tps.find((tp) => tp.tenant.id === id.trim().toLowerCase()),
    tenantForDomain: (d) => tps.find((tp) => tp.tenant.domains.includes(d.toLowerCase())),
    // The nearest tenant domain wins, as in the real Policy (src/policy/index.ts).
    tenantForSender: (a) => {
      const owners = tps.map((tp) => ({ tp, d: owningDomain(tp.tenant.domains, a) })).filter((o) => o.d !== undefined);
      return owners.sort((x, y) => y.d!.length - x.d!.length)[0]?.tp;
    },
  };
}

export const standardTenants = () => [
  tenant('contoso', CONTOSO, ['contoso.com']),
  tenant('fabrikam', FABRIKAM, ['fabrikam.com']),
  tenant('paused', PAUSED, ['paused.example'], false),
];

export interface TestRelay {
  relay: Relay;
  port: number;
  store: PolicyStore;
  metrics: RelayMetrics;
  /** What the loader returns on the next reload. */
  next: { result: PolicyLoadResult };
  stop(): Promise<void>;
}

export async function startTestRelay(options: {
  /** Where mail goes (a fake next hop) and the certificate trusted for it (--deliver-ca). */
  nextHop?: { readonly port: number; readonly cert?: Buffer };
  outbox?: string;
  limits?: Partial<RelayLimits>;
  allow?: string[];
  deliverTimeoutMs?: number;
  stateDir?: string;
  policy?: Policy;
  clientCertDir?: string;
  /** Deliver to each tenant's own deliverTo instead of overriding it with the next hop. */
  perTenant?: boolean;
  /** Refuse clients without a verified TLS client certificate for this name (--require-client-cert). */
  clientCertificate?: ClientCertificatePolicy;
  /** Signs large text parts elsewhere (a worker thread, or a fake of one). */
  signer?: PartSigner;
  /** The Sent Items queue the relay hands signed copies to. */
  sentItems?: SentItemsIntake;
}): Promise<TestRelay> {
  const log = silentLogger();
  const metrics = new RelayMetrics();
  const next = { result: { ok: true, policy: options.policy ?? makePolicy(standardTenants()), warnings: [] } as PolicyLoadResult };
  const store = new PolicyStore('/nonexistent', log, metrics, async () => next.result);
  await store.reload('startup');
  let delivery: Delivery;
  if (options.outbox) delivery = new OutboxDelivery(options.outbox);
  else
    delivery = new SmtpDelivery({
      override: options.perTenant ? undefined : { host: '127.0.0.1', port: options.nextHop?.port ?? 9 },
      name: 'relay.test',
      ca: options.nextHop?.cert,
      clientCertDir: options.clientCertDir,
      connectionTimeoutMs: options.deliverTimeoutMs ?? 2000,
      greetingTimeoutMs: options.deliverTimeoutMs ?? 2000,
      socketTimeoutMs: options.deliverTimeoutMs ?? 2000,
    });
  const relay = new Relay({
    listen: { host: '127.0.0.1', port: 0 },
    hostname: 'relay.test',
    tls: await testCertificate(),
    store,
    delivery,
    log,
    metrics,
    allow: options.allow ? new AllowList(options.allow) : undefined,
    usage: options.stateDir ? new UsageRecorder(options.stateDir) : undefined,
    limits: options.limits,
    clientCertificate: options.clientCertificate,
    signer: options.signer,
    sentItems: options.sentItems,
  });
  const { port } = await relay.start();
  return {
    relay,
    port,
    store,
    metrics,
    next,
    async stop() {
      await relay.shutdown(1000);
      await store.close();
      await delivery.close();
    },
  };
}

export function message(o: { tenantIds?: string[]; from?: string; to?: string; subject?: string; body?: string; extra?: string[] } = {}): string {
  const lines = [
    ...(o.extra ?? []),
    `From: Alice Example <${o.from ?? 'alice@contoso.com'}>`,
    `To: Bob <${o.to ?? 'bob@example.org'}>`,
    `Subject: ${o.subject ?? 'Quarterly numbers'}`,
    'Date: Sun, 22 Nov 2026 08:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@contoso.com>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...(o.tenantIds ?? [CONTOSO]).map((id) => `X-MS-Exchange-CrossTenant-Id: ${id}`),
    '',
    o.body ?? 'Hi Bob,\r\n\r\nthe numbers are attached.\r\n\r\nAlice',
    '',
  ];
  return lines.join('\r\n');
}

/** A reply as Gmail writes it: multipart/alternative, newest text on top, the thread quoted below. */
export function replyMessage(o: { tenantId?: string; from?: string; to?: string } = {}): string {
  const b = 'b1_reply_boundary';
  return [
    `From: Alice Example <${o.from ?? 'alice@contoso.com'}>`,
    `To: Bob Customer <${o.to ?? 'bob@example.org'}>`,
    'Subject: Re: Renewal quote',
    'Date: Sun, 22 Nov 2026 08:00:00 +0000',
    'Message-ID: <reply-1@contoso.com>',
    'In-Reply-To: <quote-1@example.org>',
    'MIME-Version: 1.0',
    `X-MS-Exchange-CrossTenant-Id: ${o.tenantId ?? CONTOSO}`,
    `Content-Type: multipart/alternative; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Hi Bob, the renewal quote is attached. NEWEST-REPLY-TEXT',
    '',
    'On Sat, Nov 21, 2026 at 5:00 PM Bob Customer <bob@example.org> wrote:',
    '> Could you send the renewal quote? QUOTED-THREAD-TEXT',
    '',
    `--${b}`,
    'Content-Type: text/html; charset=UTF-8',
    '',
    '<div dir="ltr">Hi Bob, the renewal quote is attached. NEWEST-REPLY-TEXT</div><br>',
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Sat, Nov 21, 2026 at 5:00 PM Bob Customer &lt;bob@example.org&gt; wrote:<br></div>',
    '<blockquote class="gmail_quote">Could you send the renewal quote? QUOTED-THREAD-TEXT</blockquote></div>',
    '',
    `--${b}--`,
    '',
  ].join('\r\n');
}

/** Decodes quoted-printable (enough to read a signed part back in tests). */
export function decodeQp(s: string): string {
  return Buffer.from(s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

export interface SendResult {
  ok: boolean;
  code?: number;
  response?: string;
  rejected?: string[];
}

/** Sends through the relay with nodemailer (STARTTLS unless `tls: false`). */
export async function send(
  port: number,
  envelope: { from: string; to: string[] },
  raw: string | Buffer,
  o: { tls?: boolean; clientCertificate?: { cert: string | Buffer; key: string | Buffer } } = {},
): Promise<SendResult> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: o.tls === false,
    requireTLS: o.tls !== false,
    tls: { rejectUnauthorized: false, ...(o.clientCertificate ?? {}) },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { ok: true, response: info.response, rejected: (info.rejected ?? []).map(String) };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message?: string };
    return { ok: false, code: e.responseCode, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** A line-level SMTP client: for scripts nodemailer will not play (dropping mid-DATA). */
export class RawSmtp {
  private buf = '';
  private waiters: Array<() => void> = [];
  constructor(public socket: Socket | TLSSocket) {
    this.attach();
  }
  private attach(): void {
    this.socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(port: number): Promise<RawSmtp> {
    const c = new RawSmtp(netConnect(port, '127.0.0.1'));
    const greeting = await c.reply();
    if (!greeting.startsWith('220')) {
      c.close();
      throw new Error(`no greeting (${greeting || 'connection closed'})`);
    }
    return c;
  }
  /** Resolves with the next complete reply ("250 ..." last line), or '' when the socket closed. */
  async reply(): Promise<string> {
    for (;;) {
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (m) {
        const end = m.index + m[0].length;
        const text = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return text.trim();
      }
      if (this.socket.destroyed || this.socket.readableEnded) return '';
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async cmd(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }
  async starttls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    if (!r.startsWith('220')) throw new Error(`STARTTLS refused: ${r}`);
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      secure.once('secureConnect', () => res());
      secure.once('error', rej);
    });
    this.socket = secure;
    this.attach();
  }
  write(data: string): void {
    this.socket.write(data);
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Polls `check` until it returns true (no fixed sleeps in tests). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
