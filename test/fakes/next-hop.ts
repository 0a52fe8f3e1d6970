// A capturing next hop (stands in for Exchange Online's inbound MX): smtp-server with STARTTLS on
// a self-signed certificate, answers scriptable per message, every accepted message kept. And a
// scripted one (a small raw SMTP server) for the failures smtp-server will not play: a refusing
// greeting or EHLO, no STARTTLS, a refused STARTTLS, a broken TLS handshake, a refused DATA.
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
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
  /** When set, MAIL FROM is refused with this code (e.g. 550: a connector not set up, 451). */
  mailFromAnswer: number | undefined;
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

export async function startNextHop(options: { port?: number; requestCert?: boolean; legacyTls?: boolean; credentials?: { cert: Buffer | string; key: Buffer | string } } = {}): Promise<NextHop> {
  const tls = options.credentials ?? (await testCertificate());
  const sockets = new Set<Socket>();
  const certs = new Map<string, string>();
  const hop: NextHop = {
    port: 0,
    cert: Buffer.from(tls.cert),
    messages: [],
    dataStarted: 0,
    mode: 'accept',
    rcptAnswers: new Map(),
    mailFromAnswer: undefined,
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
    onMailFrom(_address, _session, cb) {
      const code = hop.mailFromAnswer;
      if (code) return cb(Object.assign(new Error(`${code >= 500 ? '5.7.1' : '4.3.2'} sender refused by fake next hop`), { responseCode: code }));
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

/** What the scripted next hop answers; every reply not given is a plain success. */
export interface NextHopScript {
  /** The greeting line; `null` = accept the connection and never greet. */
  readonly greeting?: string | null;
  /** The whole reply to EHLO (lines separated by \n); default 250 with STARTTLS offered. */
  readonly ehlo?: string;
  /** `upgrade` (default): 220 and TLS; `not-offered`: not in EHLO and answered 502; `garbage`: 220, then bytes that are not TLS; or the reply line. */
  readonly starttls?: 'upgrade' | 'not-offered' | 'garbage' | string;
  readonly mailFrom?: string;
  readonly rcptTo?: string;
  /** The reply to the DATA command. */
  readonly data?: string;
  /** The reply to the end of the message. */
  readonly endOfData?: string;
}

export interface ScriptedNextHop {
  readonly port: number;
  /** The certificate it presents after STARTTLS (the shared test certificate). */
  readonly cert: Buffer;
  /** Every command received, with whether it came inside TLS. */
  readonly commands: Array<{ readonly line: string; readonly tls: boolean }>;
  /** Messages that reached the end of DATA. */
  delivered: number;
  close(): Promise<void>;
}

/** A raw SMTP server that answers as `script` says (STARTTLS with the shared test certificate). */
export async function startScriptedNextHop(script: NextHopScript = {}): Promise<ScriptedNextHop> {
  const tls = await testCertificate();
  const sockets = new Set<Socket>();
  const hop: ScriptedNextHop = {
    port: 0,
    cert: tls.cert,
    commands: [],
    delivered: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const starttls = script.starttls ?? 'upgrade';
  const server = createServer((plain) => {
    sockets.add(plain);
    plain.on('close', () => sockets.delete(plain));
    plain.on('error', () => undefined);
    let sock: Socket = plain;
    let secure = false;
    let inData = false;
    let buf = '';
    const send = (reply: string) => {
      if (!sock.destroyed) sock.write(reply.split('\n').join('\r\n') + '\r\n');
    };
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buf = buf.slice(end + 5);
          inData = false;
          const reply = script.endOfData ?? '250 2.0.0 queued by scripted next hop';
          if (reply.startsWith('2')) hop.delivered++;
          send(reply);
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        hop.commands.push({ line, tls: secure });
        const verb = (line.split(' ')[0] ?? '').toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') {
          const offer = !secure && starttls !== 'not-offered';
          send(script.ehlo ?? ['250-scripted.next.hop', ...(offer ? ['250-STARTTLS'] : []), '250 8BITMIME'].join('\n'));
        } else if (verb === 'STARTTLS') {
          if (starttls === 'not-offered') send('502 5.5.1 Error: command not implemented');
          else if (starttls !== 'upgrade' && starttls !== 'garbage') send(starttls);
          else {
            send('220 2.0.0 Ready to start TLS');
            plain.removeListener('data', onData);
            buf = '';
            if (starttls === 'garbage') {
              plain.write('this is not a TLS handshake\r\n'.repeat(20));
              return;
            }
            const secured = new TLSSocket(plain, { isServer: true, key: tls.key, cert: tls.cert });
            secured.on('error', () => undefined);
            secured.on('data', onData);
            sock = secured;
            secure = true;
            return;
          }
        } else if (verb === 'MAIL') send(script.mailFrom ?? '250 2.1.0 Sender OK');
        else if (verb === 'RCPT') send(script.rcptTo ?? '250 2.1.5 Recipient OK');
        else if (verb === 'DATA') {
          const reply = script.data ?? '354 Start mail input; end with <CRLF>.<CRLF>';
          send(reply);
          inData = reply.startsWith('354');
        } else if (verb === 'RSET' || verb === 'NOOP') send('250 2.0.0 OK');
        else if (verb === 'QUIT') {
          send('221 2.0.0 Bye');
          sock.end();
          return;
        } else send('502 5.5.2 Error: command not recognized');
      }
    };
    plain.on('data', onData);
    if (script.greeting !== null) send(script.greeting ?? '220 scripted.next.hop ESMTP');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (hop as { port: number }).port = (server.address() as { port: number }).port;
  return hop;
}
