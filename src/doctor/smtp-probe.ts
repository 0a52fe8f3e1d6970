// A minimal SMTP client that does what Exchange Online does first when it hands mail to the
// relay through the outbound connector, and stops there: connect, read the greeting, EHLO,
// STARTTLS, the TLS handshake (SNI = smart host), EHLO again, QUIT. It never sends mail.
//
// Written on node:net/node:tls rather than nodemailer's SMTP connection because the doctor needs
// what a mail client hides: which step failed and how, and the server's certificate even when
// it would be refused (the handshake runs with rejectUnauthorized false, and the chain, name and
// dates are judged afterwards, so one run reports every problem of the certificate at once).
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, rootCertificates, type TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';

export interface ProbeTarget {
  /** The smart host name: SNI, and the name the certificate must be valid for. */
  readonly host: string;
  /** Where to connect (an address, or a name to resolve). */
  readonly address: string;
  readonly port: number;
}

export interface SmtpProbeOptions {
  /** Each step (connect, every answer, the handshake) must complete within this time. Default 10 s. */
  readonly timeoutMs?: number;
  /** Extra trusted CA (PEM), besides the public roots Node ships. */
  readonly ca?: string;
  /** Name sent in EHLO. Default: this machine's host name. */
  readonly ehloName?: string;
}

export type ProbeStage = 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'handshake' | 'ehlo-after-tls';

export interface ProbeFailure {
  readonly stage: ProbeStage;
  /** `refused`, `timeout`, `closed`, `rejected`, `no-starttls`, `handshake`, or the socket's errno code. */
  readonly code: string;
  readonly detail: string;
}

export interface ProbeTls {
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string | null;
  readonly cipher: string;
  /** Chain verified against the trusted roots (dates included). */
  readonly authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. `CERT_HAS_EXPIRED`, `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly authorizationError?: string;
  /** Why the certificate is not valid for the host name (tls.checkServerIdentity), if it is not. */
  readonly nameError?: string;
  readonly certificate?: X509Certificate;
}

export interface SmtpProbeResult {
  readonly target: ProbeTarget;
  /** The greeting line (220 …), when one came. */
  readonly greeting?: string;
  /** Whether EHLO listed STARTTLS (undefined when EHLO was not reached). */
  readonly startTlsOffered?: boolean;
  readonly tls?: ProbeTls;
  /** The step that failed; absent when the whole dialogue succeeded. */
  readonly failure?: ProbeFailure;
}

interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

/**
 * How a step stops the dialogue: thrown inside probeSmtp and always caught there, where it
 * becomes the result's `failure` (it never leaves this module, so it is not an Error class).
 */
class StepFailed {
  constructor(readonly failure: ProbeFailure) {}
}

/** Reads SMTP replies (one or more `NNN-`/`NNN ` lines) from a socket, one step at a time. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private ended: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer += chunk.toString('latin1');
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) this.complete();
    }
  };
  private readonly onEnd = (err?: Error): void => {
    this.ended = err ?? new Error('closed');
    this.waiting?.reject(this.ended);
    this.waiting = undefined;
  };
  private done: Reply[] = [];

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('error', this.onEnd);
    socket.on('close', () => this.onEnd());
  }

  /** Stops reading (the socket is handed to TLS); its errors now surface on the TLS socket. */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onEnd);
    this.socket.on('error', () => undefined);
  }

  private complete(): void {
    const lines = this.lines;
    this.lines = [];
    const reply = { code: Number(lines[lines.length - 1]!.slice(0, 3)), lines: lines.map((l) => l.slice(4)) };
    if (this.waiting) {
      this.waiting.resolve(reply);
      this.waiting = undefined;
    } else this.done.push(reply);
  }

  next(): Promise<Reply> {
    const ready = this.done.shift();
    if (ready) return Promise.resolve(ready);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => ProbeFailure): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepFailed(onTimeout())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/** Runs the dialogue against one address; never throws, the outcome says what happened. */
export async function probeSmtp(target: ProbeTarget, options: SmtpProbeOptions = {}): Promise<SmtpProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const where = `${target.address}:${target.port}`;
  let greeting: string | undefined;
  let startTlsOffered: boolean | undefined;
  let tlsInfo: ProbeTls | undefined;
  let socket: Socket | undefined;
  let tlsSocket: TLSSocket | undefined;

  const ask = async (reader: ReplyReader, stage: ProbeStage, command: string | undefined): Promise<Reply> => {
    if (command !== undefined) (tlsSocket ?? socket)!.write(`${command}\r\n`);
    try {
      return await withTimeout(reader.next(), timeoutMs, () => ({
        stage,
        code: 'timeout',
        detail: command === undefined ? `connected to ${where}, but no SMTP greeting within ${seconds(timeoutMs)}` : `no answer to ${command} within ${seconds(timeoutMs)}`,
      }));
    } catch (err) {
      if (err instanceof StepFailed) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new StepFailed({
        stage,
        code: 'closed',
        detail: `the server closed the connection ${command === undefined ? 'before its greeting' : `after ${command}`}${e.code ? ` (${e.code})` : ''}`,
      });
    }
  };

  try {
    const tcp = connectTcp(target.address, target.port);
    socket = tcp.socket;
    await withTimeout(tcp.connected, timeoutMs, () => ({
      stage: 'connect',
      code: 'timeout',
      detail: `no answer from ${where} within ${seconds(timeoutMs)} (nothing listening, or a firewall drops the connection)`,
    }));
    const plain = new ReplyReader(socket);
    const hello = await ask(plain, 'greeting', undefined);
    greeting = `${hello.code} ${hello.lines.join(' ')}`;
    if (hello.code !== 220) throw new StepFailed({ stage: 'greeting', code: 'rejected', detail: `the server refused the session: ${greeting}` });
    const ehloName = options.ehloName ?? hostname();
    const ehlo = await ask(plain, 'ehlo', `EHLO ${ehloName}`);
    if (ehlo.code !== 250) throw new StepFailed({ stage: 'ehlo', code: 'rejected', detail: `EHLO refused: ${ehlo.code} ${ehlo.lines.join(' ')}` });
    startTlsOffered = ehlo.lines.slice(1).some((l) => /^STARTTLS\b/i.test(l.trim()));
    if (!startTlsOffered) throw new StepFailed({ stage: 'starttls', code: 'no-starttls', detail: `${where} does not offer STARTTLS (EHLO lists ${ehlo.lines.slice(1).join(', ') || 'no extension'})` });
    const go = await ask(plain, 'starttls', 'STARTTLS');
    if (go.code !== 220) throw new StepFailed({ stage: 'starttls', code: 'rejected', detail: `STARTTLS refused: ${go.code} ${go.lines.join(' ')}` });
    plain.detach();

    tlsSocket = await withTimeout(handshake(socket, target.host, options.ca), timeoutMs, () => ({
      stage: 'handshake',
      code: 'timeout',
      detail: `the TLS handshake did not complete within ${seconds(timeoutMs)}`,
    }));
    const peer = tlsSocket.getPeerCertificate();
    const nameError = peer && Object.keys(peer).length > 0 ? checkServerIdentity(target.host, peer) : new Error('the server sent no certificate');
    const authError = tlsSocket.authorizationError as unknown;
    const certificate = tlsSocket.getPeerX509Certificate();
    tlsInfo = {
      protocol: tlsSocket.getProtocol(),
      cipher: tlsSocket.getCipher().name,
      authorized: tlsSocket.authorized,
      ...(authError ? { authorizationError: String((authError as { code?: string }).code ?? authError) } : {}),
      ...(nameError ? { nameError: nameError.message } : {}),
      ...(certificate ? { certificate } : {}),
    };
    const secure = new ReplyReader(tlsSocket);
    const again = await ask(secure, 'ehlo-after-tls', `EHLO ${ehloName}`);
    if (again.code !== 250) throw new StepFailed({ stage: 'ehlo-after-tls', code: 'rejected', detail: `EHLO after STARTTLS refused: ${again.code} ${again.lines.join(' ')}` });
    tlsSocket.write('QUIT\r\n');
    return { target, greeting, startTlsOffered, tls: tlsInfo };
  } catch (err) {
    const failure: ProbeFailure =
      err instanceof StepFailed ? err.failure : { stage: 'connect', code: 'error', detail: (err as Error).message };
    return {
      target,
      ...(greeting !== undefined ? { greeting } : {}),
      ...(startTlsOffered !== undefined ? { startTlsOffered } : {}),
      ...(tlsInfo ? { tls: tlsInfo } : {}),
      failure,
    };
  } finally {
    // QUIT was sent when the dialogue went through; nothing else is worth waiting for.
    setTimeout(() => {
      tlsSocket?.destroy();
      socket?.destroy();
    }, 50).unref();
  }
}

function connectTcp(address: string, port: number): { socket: Socket; connected: Promise<void> } {
  const socket = netConnect({ host: address, port });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve();
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      const where = `${address}:${port}`;
      const detail =
        err.code === 'ECONNREFUSED'
          ? `connection refused by ${where} (nothing listens on that port)`
          : err.code === 'ENOTFOUND'
            ? `${address} does not resolve`
            : `cannot connect to ${where}: ${err.message}`;
      reject(new StepFailed({ stage: 'connect', code: err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error'), detail }));
    };
    socket.once('error', onError);
  });
  return { socket, connected };
}

function handshake(socket: Socket, host: string, ca: string | undefined): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tlsSocket = tlsConnect({
      socket,
      // SNI carries names only; an address as smart host is sent without it.
      ...(isIP(host) ? {} : { servername: host }),
      // Judged after the handshake (authorized / authorizationError / checkServerIdentity), so
      // that every problem of the certificate is reported, not only the first.
      rejectUnauthorized: false,
      // Exchange Online requires TLS 1.2 or newer: a server that offers less fails here.
      minVersion: 'TLSv1.2',
      // The public roots Node ships, plus --ca; not NODE_EXTRA_CA_CERTS, which may hold CAs that
      // Exchange Online would not trust (the client certificate check uses the same anchors).
      ca: ca ? [...rootCertificates, ca] : [...rootCertificates],
    });
    tlsSocket.once('secureConnect', () => {
      tlsSocket.off('error', onError);
      resolve(tlsSocket);
    });
    const onError = (err: Error): void => {
      tlsSocket.destroy();
      reject(new StepFailed({ stage: 'handshake', code: 'handshake', detail: `TLS handshake failed: ${err.message}` }));
    };
    tlsSocket.once('error', onError);
  });
}
