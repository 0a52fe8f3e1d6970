// Loopback SMTP servers for the doctor's smart host checks: smtp-server with STARTTLS on a given
// certificate (or without STARTTLS, or refusing the session), and a TCP listener that never
// greets. Each records whether a message was ever started (the probe must never send one).
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { IssuedCertificate } from './pki.ts';

export interface TestSmtpServer {
  readonly port: number;
  /** MAIL FROM commands received (must stay 0). */
  readonly mailFrom: number;
  /** Connections accepted. */
  readonly connections: number;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  readonly certificate?: IssuedCertificate;
  readonly noStartTls?: boolean;
  /** Refuse every session at the greeting (as the relay does for a source outside --allow). */
  readonly refuse?: boolean;
  /** Extra TLS options for the server (e.g. maxVersion). */
  readonly tls?: Partial<SMTPServerOptions>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  let mailFrom = 0;
  let connections = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    logger: false,
    name: 'relay.sigops.example.net',
    ...(options.certificate ? { key: options.certificate.key, cert: options.certificate.cert } : {}),
    ...(options.noStartTls ? { hideSTARTTLS: true } : {}),
    ...options.tls,
    onConnect(_session, cb) {
      connections++;
      if (options.refuse) {
        const err = Object.assign(new Error('5.7.1 Your address is not allowed to use this relay'), { responseCode: 554 });
        return cb(err);
      }
      cb();
    },
    onMailFrom(_address, _session, cb) {
      mailFrom++;
      cb();
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    get mailFrom() {
      return mailFrom;
    },
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Accepts connections and never says anything. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on loopback where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
