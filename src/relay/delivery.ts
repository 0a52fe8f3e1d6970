// Hand-off to the next hop: pooled nodemailer SMTP (STARTTLS required), or an outbox folder for
// development. The message arrives as a stream; nothing is buffered beyond stream high-water marks.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nodemailer from 'nodemailer';
import type { HostPort } from '../model/index.ts';
import { deliveryError, recipientsRefused, RelayError } from './errors.ts';

export interface DeliveryRequest {
  readonly id: string;
  /** The tenant's next hop and the client certificate name it expects. */
  readonly deliverTo: HostPort;
  readonly certificateDomain?: string;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly message: Readable;
}

export interface DeliveryResult {
  /** Where it went, for logs: host:port or the outbox file. */
  readonly destination: string;
  readonly response?: string;
}

export interface Delivery {
  /** Resolves only once the next hop accepted the message for every recipient; rejects with a RelayError otherwise. */
  deliver(request: DeliveryRequest): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export interface SmtpDeliveryOptions {
  /** Overrides every tenant's deliverTo (`--deliver smtp://host:port`). */
  readonly override?: HostPort;
  /** Name sent in EHLO. */
  readonly name: string;
  readonly maxConnections?: number;
  /** Directory with <certificateDomain>.crt and .key client certificates. */
  readonly clientCertDir?: string;
  /** Extra CA certificates (PEM) trusted for the next hop, e.g. a test CA. */
  readonly ca?: Buffer;
  /** Accept any next-hop certificate (testing only). */
  readonly insecureTls?: boolean;
  readonly connectionTimeoutMs?: number;
  readonly greetingTimeoutMs?: number;
  readonly socketTimeoutMs?: number;
}

interface Pool {
  readonly transport: ReturnType<typeof nodemailer.createTransport>;
}

/** `smtp://host:port` or `host:port` (`defaultPort` when missing; 0 = ephemeral, for listeners only). */
export function parseHostPort(value: string, defaultPort = 25, allowEphemeral = false): HostPort {
  const m = /^(?:smtp:\/\/)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(value.trim());
  if (!m) throw new Error(`not a host[:port]: ${value}`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!((port > 0 || (allowEphemeral && port === 0)) && port < 65536)) throw new Error(`invalid port in ${value}`);
  return { host, port };
}

export class SmtpDelivery implements Delivery {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: SmtpDeliveryOptions) {}

  private clientCert(certificateDomain: string | undefined): { cert: Buffer; key: Buffer } | undefined {
    const dir = this.options.clientCertDir;
    if (!dir || !certificateDomain || /[/\\]|^\./.test(certificateDomain)) return undefined;
    const crt = join(dir, `${certificateDomain}.crt`);
    const key = join(dir, `${certificateDomain}.key`);
    if (!existsSync(crt) || !existsSync(key)) return undefined;
    return { cert: readFileSync(crt), key: readFileSync(key) };
  }

  private pool(to: HostPort, certificateDomain: string | undefined): Pool {
    const client = this.clientCert(certificateDomain);
    // one pool per destination and client identity: a connection presents one certificate
    const key = `${to.host}:${to.port}|${client ? certificateDomain : ''}`;
    let pool = this.pools.get(key);
    if (pool) return pool;
    const o = this.options;
    const transport = nodemailer.createTransport({
      pool: true,
      host: to.host,
      port: to.port,
      secure: false,
      requireTLS: true,
      name: o.name,
      maxConnections: o.maxConnections ?? 10,
      maxMessages: 1000,
      connectionTimeout: o.connectionTimeoutMs ?? 30_000,
      greetingTimeout: o.greetingTimeoutMs ?? 30_000,
      socketTimeout: o.socketTimeoutMs ?? 120_000,
      disableFileAccess: true,
      disableUrlAccess: true,
      tls: {
        minVersion: 'TLSv1.2',
        servername: /^[\d.]+$|:/.test(to.host) ? undefined : to.host,
        rejectUnauthorized: !o.insecureTls,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(client ?? {}),
      },
    });
    pool = { transport };
    this.pools.set(key, pool);
    return pool;
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    const to = this.options.override ?? request.deliverTo;
    const destination = `${to.host}:${to.port}`;
    const { transport } = this.pool(to, request.certificateDomain);
    let info: { rejected?: unknown[]; rejectedErrors?: unknown[]; response?: string };
    try {
      info = await transport.sendMail({
        envelope: { from: request.envelope.from, to: [...request.envelope.to] },
        raw: request.message,
        // nodemailer would otherwise generate (with crypto random bytes) a Message-ID it never
        // uses for a raw message; the raw bytes go out unchanged either way
        messageId: `<${request.id}@sigops.relay>`,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      request.message.destroy();
      throw deliveryError(err, destination);
    }
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) {
      throw recipientsRefused(rejected, (info.rejectedErrors ?? []) as never[], destination);
    }
    return { destination, response: info.response };
  }

  async close(): Promise<void> {
    for (const { transport } of this.pools.values()) transport.close();
    this.pools.clear();
  }
}

/** Development delivery: `<timestamp>-<id>.eml` files, renamed into place only when complete. */
export class OutboxDelivery implements Delivery {
  constructor(private readonly dir: string) {}

  async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    await mkdir(this.dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const safeId = request.id.replace(/[^\w-]/g, '');
    const file = join(this.dir, `${stamp}-${safeId}.eml`);
    const partial = join(this.dir, `.${stamp}-${safeId}.eml.part`);
    try {
      await pipeline(request.message, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw new RelayError(451, '4.3.0', 'Could not write the message to the outbox, try again later', 'internal', { cause: err });
    }
    return { destination: file };
  }

  async close(): Promise<void> {}
}
