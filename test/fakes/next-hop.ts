// A capturing next hop (stands in for Exchange Online's inbound MX): smtp-server with STARTTLS on
// a self-signed certificate, answers scriptable per message, every accepted message kept.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { generateSelfSigned, type TlsCredentials } from '../../src/relay/tls.ts';

export type NextHopMode =
  | 'accept'
  | 'tempfail' // 451 after DATA
  | 'reject' // 554 5.6.0 after DATA
  | 'slow' // never answers the end of DATA
  | 'reset'; // drops the connection in the middle of DATA

export interface CapturedMessage {
  readonly from: string;
  readonly to: string[];
  readonly raw: Buffer;
  readonly secure: boolean;
  readonly clientCertSubject?: string;
}

export interface NextHop {
  readonly port: number;
  readonly cert: Buffer;
  readonly messages: CapturedMessage[];
  /** DATA transactions started (whatever their end). */
  dataStarted: number;
  mode: NextHopMode;
  /** RCPT TO answers by address: a code (e.g. 450, 550) refuses that recipient. */
  rcptAnswers: Map<string, number>;
  /** When set, the answer to the end of DATA waits for this promise. */
  hold: Promise<void> | undefined;
  /** Open client connections. */
  readonly openConnections: number;
  close(): Promise<void>;
}

let shared: Promise<TlsCredentials> | undefined;
export function testCertificate(): Promise<TlsCredentials> {
  shared ??= generateSelfSigned('localhost');
  return shared;
}

export async function startNextHop(options: { port?: number; requestCert?: boolean; legacyTls?: boolean } = {}): Promise<NextHop> {
  const tls = await testCertificate();
  const sockets = new Set<Socket>();
  const certs = new Map<string, string>();
  const hop: NextHop = {
    port: 0,
    cert: tls.cert,
    messages: [],
    dataStarted: 0,
    mode: 'accept',
    rcptAnswers: new Map(),
    hold: undefined,
    get openConnections() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: SMTPServer = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    requestCert: options.requestCert ?? false,
    // an old MTA: TLS 1.0/1.1 allowed (OpenSSL 3 needs security level 0 for them)
    ...(options.legacyTls ? { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    rejectUnauthorized: false,
    onSecure(socket, session, cb) {
      // after STARTTLS the TLS socket owns the connection; the plain one never reports its close
      const plain = (socket as unknown as { _parent?: Socket })._parent;
      if (plain) sockets.delete(plain);
      sockets.add(socket as unknown as Socket);
      (socket as unknown as Socket).on('close', () => sockets.delete(socket as unknown as Socket));
      const peer = (socket as unknown as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
      if (peer?.subject?.CN) certs.set(session.id, peer.subject.CN);
      cb();
    },
    onRcptTo(address, _session, cb) {
      const code = hop.rcptAnswers.get(address.address.toLowerCase());
      if (code) return cb(Object.assign(new Error(`${code >= 500 ? '5.1.1' : '4.2.1'} recipient refused by fake next hop`), { responseCode: code }));
      cb();
    },
    onData(stream, session: SMTPServerSession, cb) {
      hop.dataStarted++;
      const mode = hop.mode;
      const chunks: Buffer[] = [];
      let seen = 0;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        seen += c.length;
        if (mode === 'reset' && seen > 0) {
          const sock = (session as unknown as { _socket?: Socket })._socket;
          for (const s of sockets) if (!sock || s === sock) s.destroy();
        }
      });
      const hold = hop.hold;
      stream.on('end', async () => {
        if (hold) await hold;
        if (mode === 'slow' || mode === 'reset') return; // never answer
        if (mode === 'tempfail') return cb(Object.assign(new Error('4.3.2 fake next hop busy'), { responseCode: 451 }));
        if (mode === 'reject') return cb(Object.assign(new Error('5.6.0 fake next hop refuses this message'), { responseCode: 554 }));
        const peer = certs.get(session.id);
        hop.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          clientCertSubject: peer,
        });
        cb(null, 'queued by fake next hop');
      });
    },
  } as ConstructorParameters<typeof SMTPServer>[0]);
  server.on('error', () => undefined);
  server.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server.server, 'listening');
  const a = server.server.address();
  (hop as { port: number }).port = typeof a === 'object' && a ? a.port : 0;
  return hop;
}
