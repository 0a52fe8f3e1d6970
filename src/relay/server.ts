// The relay: SMTP in (STARTTLS required), tenant checks, signing as the message streams through,
// hand-off to the next hop, and only then the answer upstream.
import { once } from 'node:events';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { tenantOwnsSender, type HostPort } from '../model/index.ts';
import type { SentItemsIntake, SignedCopy } from '../sent-items/index.ts';
import type { Logger } from '../log/index.ts';
import type { TenantPolicy } from '../policy/types.ts';
import type { AllowList } from './allowlist.ts';
import type { Delivery, DeliveryResult } from './delivery.ts';
import { choiceFor, decisionFor, headerFacts, signMessage, type PartSigner, type SigningChoice, type SignOutcome } from './signing.ts';
import { deliveryError, RelayError } from './errors.ts';
import { authorise } from './identity.ts';
import { judgeClientCertificate, type ClientCertificatePolicy, type ClientCertificateVerdict } from './client-cert.ts';
import type { RelayMetrics } from './metrics.ts';
import type { PolicySnapshot, PolicyStore } from './policy-store.ts';
import { receivedHeader } from './received.ts';
import type { TlsCredentials } from './tls.ts';
import type { UsageRecorder } from './usage.ts';

export interface RelayLimits {
  /** Bytes of DATA (150 MB). */
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxClients: number;
  /** Idle time while the client owes us input. */
  readonly socketTimeoutMs: number;
  /** More Received headers than this is a loop: 554 5.4.6. */
  readonly maxReceived: number;
  /**
   * Bytes of the top-level header block: a larger one is refused (552 5.3.4), as the tenant
   * checks could not see past it. Exchange Online's own limit is far below (256 KB).
   */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxMessageBytes: 150 * 1024 * 1024,
  maxRecipients: 5000,
  maxClients: 500,
  socketTimeoutMs: 5 * 60_000,
  maxReceived: 30,
  maxHeaderBytes: 1024 * 1024,
};

export interface RelayOptions {
  readonly listen: HostPort;
  readonly hostname: string;
  readonly tls: TlsCredentials;
  readonly store: PolicyStore;
  readonly delivery: Delivery;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly allow?: AllowList;
  readonly usage?: UsageRecorder;
  /** Signs large text parts off the event loop. */
  readonly signer?: PartSigner;
  readonly limits?: Partial<RelayLimits>;
  /** `--require-client-cert`: only a client with a verified certificate for this name may send. */
  readonly clientCertificate?: ClientCertificatePolicy;
  /** The Sent Items queue: a signed copy of each signed message of a tenant with `sentItems` goes there once delivered. */
  readonly sentItems?: SentItemsIntake;
}

interface Transaction {
  readonly snapshot: PolicySnapshot | undefined;
}

export class Relay {
  readonly server: SMTPServer;
  private readonly limits: RelayLimits;
  private readonly transactions = new Map<string, Transaction>();
  /** Per session, what its client certificate proved (only with --require-client-cert). */
  private readonly clientCerts = new Map<string, ClientCertificateVerdict>();
  private accepting = true;
  private listening = false;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  address: { host: string; port: number } | undefined;

  constructor(private readonly o: RelayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.server = new SMTPServer({
      name: o.hostname,
      banner: 'sigops relay',
      key: o.tls.key,
      cert: o.tls.cert,
      minVersion: 'TLSv1.2',
      authOptional: true,
      disabledCommands: ['AUTH'],
      // the client certificate is asked for, and judged in onSecure: a failed check must give
      // a reply the client can read (at MAIL FROM), not a torn-down handshake
      ...(o.clientCertificate ? { requestCert: true, rejectUnauthorized: false, ca: [...o.clientCertificate.ca] } : {}),
      size: this.limits.maxMessageBytes,
      maxClients: this.limits.maxClients,
      socketTimeout: this.limits.socketTimeoutMs,
      closeTimeout: 30_000,
      disableReverseLookup: true,
      logger: false,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onSecure: (socket, session, cb) => {
        if (o.clientCertificate) this.judgeClient(socket as unknown as TLSSocket, session);
        cb();
      },
      // answered on the next turn of the event loop, never synchronously: smtp-server's parser
      // (SMTPStream.continue) clears its continuation after running it, so a whole transaction
      // pipelined behind the previous message's end, answered synchronously, set the next
      // continuation inside that run and lost it: the session stalled after its second message
      onMailFrom: (_address, session, cb) => setImmediate(() => this.onMailFrom(session, cb)),
      onRcptTo: (_address, session, cb) => this.onRcptTo(session, cb),
      onData: (stream, session, cb) => {
        this.inFlight++;
        o.metrics.inFlight.inc();
        const done = () => {
          this.inFlight--;
          o.metrics.inFlight.dec();
          // let smtp-server write the reply before a waiting shutdown closes connections
          if (this.inFlight === 0) setImmediate(() => { for (const f of this.idle.splice(0)) f(); });
        };
        this.onData(stream, session).then(
          (text) => {
            cb(null, text);
            done();
          },
          (err: unknown) => {
            cb(err instanceof RelayError ? err : deliveryError(err, 'relay'));
            done();
          },
        );
      },
      onClose: (session) => {
        this.transactions.delete(session.id);
        this.clientCerts.delete(session.id);
        o.metrics.connections.dec();
      },
    } as ConstructorParameters<typeof SMTPServer>[0]);
    // a client resetting its connection must never bring the process down
    this.server.on('error', (err: Error & { code?: string; remoteAddress?: string }) => {
      o.log.debug({ code: err.code, remote: err.remoteAddress, err: err.message }, 'smtp connection error');
    });
  }

  get ready(): boolean {
    return this.listening && this.accepting && this.o.store.current !== undefined;
  }

  get messagesInFlight(): number {
    return this.inFlight;
  }

  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = this.o.listen;
    this.server.listen(port, host);
    await once(this.server.server, 'listening');
    const a = this.server.server.address();
    this.address = { host, port: typeof a === 'object' && a ? a.port : port };
    this.listening = true;
    return this.address;
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    this.o.metrics.connections.inc();
    if (!this.accepting) return cb(new RelayError(421, '4.3.2', 'Relay is shutting down, try again later', 'shutting-down'));
    if (this.o.allow && !this.o.allow.allows(session.remoteAddress)) {
      this.o.log.warn({ remote: session.remoteAddress }, 'connection from a source outside the allow-list refused');
      this.o.metrics.count('rejected', 'source-not-allowed', '');
      return cb(new RelayError(554, '5.7.1', 'Your address is not allowed to use this relay', 'source-not-allowed'));
    }
    cb();
  }

  private onMailFrom(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (!session.secure) {
      this.o.metrics.count('rejected', 'not-tls', '');
      return cb(new RelayError(530, '5.7.0', 'Must issue a STARTTLS command first', 'not-tls'));
    }
    if (this.o.clientCertificate) {
      // no verdict: the session is secure without our STARTTLS having judged it (never expected)
      const verdict = this.clientCerts.get(session.id) ?? judgeClientCertificate(this.o.clientCertificate, undefined, null);
      if (!verdict.ok) {
        this.o.metrics.count('deferred', verdict.error.reason, '');
        return cb(verdict.error);
      }
    }
    if (!this.accepting) return cb(new RelayError(421, '4.3.2', 'Relay is shutting down, try again later', 'shutting-down'));
    const snapshot = this.o.store.current;
    if (!snapshot) return cb(new RelayError(451, '4.3.0', 'No configuration loaded yet, try again later', 'config-unavailable'));
    // the message keeps this config generation from MAIL FROM to the final reply
    this.transactions.set(session.id, { snapshot });
    cb();
  }

  /** Decides once per STARTTLS what the client's certificate proves; logged when it is refused. */
  private judgeClient(socket: TLSSocket, session: SMTPServerSession): void {
    const policy = this.o.clientCertificate!;
    const peer = socket.getPeerCertificate();
    const verdict = judgeClientCertificate(policy, peer, socket.authorized ? null : socket.authorizationError);
    this.clientCerts.set(session.id, verdict);
    if (!verdict.ok) {
      this.o.log.warn(
        { remote: session.remoteAddress, reason: verdict.error.reason, subject: verdict.subject, issuer: verdict.issuer, want: policy.name },
        'client certificate refused; its mail gets 451 4.7.1 at MAIL FROM',
      );
    }
  }

  private onRcptTo(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (session.envelope.rcptTo.length >= this.limits.maxRecipients) {
      return cb(new RelayError(452, '4.5.3', `Too many recipients (at most ${this.limits.maxRecipients} per message)`, 'too-many-recipients'));
    }
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const started = process.hrtime.bigint();
    const id = `${session.id}-${session.transaction}`;
    const sender = (session.envelope.mailFrom ? session.envelope.mailFrom.address : '').toLowerCase();
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const snapshot = this.transactions.get(session.id)?.snapshot ?? this.o.store.current;
    const metrics = this.o.metrics;
    const limit = this.limits.maxMessageBytes;
    let tenant: TenantPolicy | undefined;
    let passReason: string | undefined;
    let withoutDirectory = false;
    let delivery: Promise<DeliveryResult> | undefined;
    let deliveryFailure: unknown;
    let endOfData = 0n;
    let received = 0;
    // the signed copy for the sender's Sent Items (only for a tenant with sentItems), and its Message-ID
    let copy: SignedCopy | undefined;
    let messageId: string | undefined;
    const out = new PassThrough({ highWaterMark: 64 * 1024 });
    // the fields of every line about this message (a pino child costs a serialisation per message)
    const about = { id, sender, rcpts: recipients.length, remote: session.remoteAddress };

    const choose = (headers: Parameters<Parameters<typeof signMessage>[2]>[0]): SigningChoice => {
      if (!snapshot) throw new RelayError(451, '4.3.0', 'No configuration loaded yet, try again later', 'config-unavailable');
      if (headers.truncated) {
        // a second tenant header or From past the limit would reach the next hop unchecked
        throw new RelayError(552, '5.3.4', `Message header block exceeds the maximum size of ${this.limits.maxHeaderBytes} bytes`, 'too-large');
      }
      if (headers.getAll('received').length > this.limits.maxReceived) {
        throw new RelayError(554, '5.4.6', `Routing loop detected: more than ${this.limits.maxReceived} Received headers`, 'loop');
      }
      const auth = authorise(snapshot.policy, headers, sender);
      tenant = auth.tenant;
      const t = auth.tenant.tenant;
      // written ahead of the message, in the engine's first write
      const prepend = receivedHeader({
        helo: session.hostNameAppearsAs || 'unknown',
        remoteAddress: session.remoteAddress,
        hostname: this.o.hostname,
        tls: session.tlsOptions ? { protocol: session.tlsOptions.version, cipher: session.tlsOptions.name } : undefined,
        id,
        date: new Date(),
      });
      let message: Readable = out;
      messageId = headers.get('message-id')?.trim() || undefined;
      if (t.enabled && t.sentItems?.update && sender && messageId && !auth.nullSender && this.o.sentItems) {
        copy = this.o.sentItems.startCopy();
        // out → copy → next hop: a failure on either side destroys the other (never a half message)
        if (copy) message = pipeline(out, copy.stream, () => undefined);
      }
      delivery = this.o.delivery.deliver({
        id,
        deliverTo: t.exchange.deliverTo,
        certificateDomain: t.exchange.certificateDomain,
        envelope: { from: sender, to: recipients },
        message,
      });
      delivery.catch((err: unknown) => {
        deliveryFailure = err;
      });
      if (auth.nullSender) return { kind: 'pass', reason: (passReason = 'null-sender'), prepend };
      try {
        const decision = decisionFor(auth.tenant, { sender, ...headerFacts(headers), recipients, now: new Date() });
        if (decision.kind === 'sign' && decision.senderInDirectory === false) withoutDirectory = true;
        if (decision.kind === 'skip') {
          passReason = decision.reason; // the metrics label: the reason alone, never the detail
          if (decision.reason === 'render-failed') {
            this.o.log.warn({ ...about, tenant: t.slug, detail: decision.detail }, 'signature could not be rendered; passing the message unsigned');
          }
        }
        return { ...choiceFor(decision), prepend };
      } catch (err) {
        // a signature must never block mail: fail open
        this.o.log.error({ ...about, tenant: t.slug, err: err instanceof Error ? err.message : String(err) }, 'policy failed; passing the message unsigned');
        return { kind: 'pass', reason: (passReason = 'render-failed'), prepend };
      }
    };

    // counts DATA bytes and stops a message over the limit before the next hop sees its end
    const onInput = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) throw new RelayError(552, '5.3.4', `Message exceeds the maximum size of ${limit} bytes`, 'too-large');
      // SMTP mail never carries NUL (RFC 5321 2.3.8, RFC 6152), and a next hop that drops NULs
      // would read CRLF NUL "." CRLF as the end of the message: SMTP smuggling. Nothing of this
      // chunk goes out, and the message is never completed at the next hop.
      if (chunk.indexOf(0) >= 0) throw new RelayError(554, '5.6.0', 'Message contains a NUL byte, which SMTP does not allow', 'malformed');
    };

    // errors are handled where they are awaited (signMessage, delivery); this only keeps an
    // 'error' event without a listener from becoming an uncaught exception
    out.on('error', () => undefined);
    let outcome: SignOutcome | undefined;
    try {
      try {
        outcome = await signMessage(stream, out, choose, { onInput, maxHeaderBytes: this.limits.maxHeaderBytes, ...(this.o.signer ? { signer: this.o.signer } : {}) });
        endOfData = process.hrtime.bigint();
      } catch (err) {
        out.destroy(err instanceof Error ? err : new Error(String(err))); // never let the next hop see the end of this message
        if (delivery) await delivery.catch(() => undefined);
        if (err instanceof RelayError && (err.reason !== 'internal' || !deliveryFailure)) throw err;
        if (deliveryFailure) throw deliveryFailure;
        throw err;
      }
      if (!delivery) throw new RelayError(451, '4.3.0', 'Local error while relaying, try again later', 'internal');
      const result = await delivery;
      const t = tenant!.tenant;
      const delivered = process.hrtime.bigint();
      metrics.deliveryObserve(t.slug, Number(delivered - endOfData) / 1e9);
      const outcomeLabel = outcome.signed ? 'signed' : 'passed';
      const reason = outcome.signed ? (outcome.rule ?? '') : (passReason ?? outcome.reason ?? 'unknown');
      metrics.count(outcomeLabel, reason, t.slug);
      if (outcome.signed && withoutDirectory) metrics.signedWithoutDirectory.inc({ tenant: t.slug });
      if (!outcome.signed && (outcome.reason === 'sign-failed' || outcome.reason === 'images-failed')) {
        this.o.log.warn({ ...about, tenant: t.slug, detail: outcome.detail }, 'signature could not be inserted; the message went out unsigned');
      }
      if (outcome.signed && sender) void this.o.usage?.record(t.id, t.slug, sender);
      if (copy && outcome.signed && messageId && this.o.sentItems) {
        // handed over, not awaited: the answer upstream never waits for Sent Items
        void this.o.sentItems.enqueue({
          copy,
          tenantId: t.id,
          tenant: t.slug,
          ...(t.cloud ? { cloud: t.cloud } : {}),
          sender,
          messageId,
          external: recipients.some((r) => !tenantOwnsSender(t, r)),
        });
        copy = undefined;
      }
      this.o.log.info({ ...about, tenant: t.slug, outcome: outcomeLabel, reason, to: result.destination, ms: Number(delivered - started) / 1e6 }, 'relayed');
      return `2.6.0 Relayed as ${id}`;
    } catch (err) {
      const e = err instanceof RelayError ? err : deliveryError(err, 'next hop');
      metrics.count(e.temporary ? 'deferred' : 'rejected', e.reason, tenant?.tenant.slug ?? '');
      this.o.log[e.temporary ? 'warn' : 'info']({ ...about, tenant: tenant?.tenant.slug, code: e.smtpCode, enhanced: e.enhanced, reason: e.reason, cause: causeOf(e) }, 'refused');
      throw e;
    } finally {
      // not signed, not delivered: no Sent Items job, and no copy left behind
      if (copy) void copy.discard();
      metrics.bytes.inc(received);
      // always drain what the client still sends before answering
      if (!stream.destroyed && stream.readable) stream.resume();
      metrics.transactionSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /**
   * Stops accepting, lets the messages in flight finish (at most `graceMs`), then closes every
   * connection. A client cut off before its final reply retries: nothing is lost.
   */
  async shutdown(graceMs = 30_000): Promise<{ drained: boolean }> {
    this.accepting = false;
    const closed = new Promise<void>((resolve) => this.server.server.close(() => resolve()));
    let drained = this.inFlight === 0;
    if (!drained) {
      drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), graceMs);
        timer.unref();
        this.idle.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    }
    for (const conn of this.server.connections) {
      try {
        conn.send(421, '4.3.2 Relay shutting down, try again later');
        conn.close();
      } catch {
        // already closing
      }
    }
    await closed;
    this.listening = false;
    return { drained };
  }
}

function causeOf(e: RelayError): string | undefined {
  const c = e.cause as { code?: string; response?: string; message?: string } | undefined;
  if (!c) return undefined;
  return [c.code, c.response?.split(/\r?\n/)[0] ?? c.message].filter(Boolean).join(' ').slice(0, 200);
}
