// A next hop that fails on command, for the reliability suite: a TCP front on a fixed port (the
// port the relay delivers to) in front of two counting smtp-servers (one with STARTTLS, one
// without). The front plays the network faults (down, black hole, 1 byte/s); the servers play the
// SMTP ones (seeded random 4xx/5xx, resets in the middle of DATA, no STARTTLS). It keeps no
// message bodies, only which sequence numbers (`X-Sigops-Seq`) it accepted and how often.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { startFaultyNetwork, type NetworkFault } from './faulty-network.ts';
import { testCertificate } from './next-hop.ts';

export type { NetworkFault };

/**
 * How the SMTP server behind the front answers. Probabilities are per message and attempt, drawn
 * from the seed, the sequence number and the attempt, so a case replays the same faults on every run.
 */
export interface SmtpFaults {
  /** The server does not offer STARTTLS (and refuses the command). */
  noStartTls: boolean;
  /** 4xx to RCPT TO or to the end of DATA. */
  tempfail: number;
  /** 5xx to RCPT TO or the end of DATA: a verdict on the message. */
  reject: number;
  /** The connection is reset (RST) as soon as DATA starts arriving. */
  reset: number;
  /** The connection is closed cleanly (FIN, no answer) as soon as DATA starts arriving. */
  drop: number;
}

export const NO_SMTP_FAULTS: SmtpFaults = Object.freeze({ noStartTls: false, tempfail: 0, reject: 0, reset: 0, drop: 0 });

export interface FaultyNextHop {
  /** The port the relay delivers to (the front). */
  readonly port: number;
  /** The servers' self-signed certificate (`--deliver-ca`). */
  readonly cert: Buffer;
  /** Times each sequence number was accepted (250 to the end of DATA). */
  readonly accepted: Map<string, number>;
  /** Sequence numbers refused with 5xx (the verdicts the next hop gave). */
  readonly refused: Set<string>;
  /** Messages whose header sequence number differed from the one in their envelope recipient (must stay 0). */
  readonly mismatched: string[];
  /** DATA transactions started, whatever their end. */
  readonly dataStarted: number;
  readonly network: NetworkFault;
  smtp: SmtpFaults;
  /** Switches the network fault; open connections follow it at once. */
  setNetwork(fault: NetworkFault): Promise<void>;
  close(): Promise<void>;
}

/** The sequence number a load generator put into the envelope recipient (`bob+<seq>@example.org`). */
export function seqOfRecipient(address: string): string | undefined {
  return /^[^+@]+\+([^@]+)@/.exec(address)?.[1];
}

/** mulberry32: small, fast, seeded; a fault case replays the same faults on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32 bits. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SEQ_HEADER = /(?:^|\n)X-Sigops-Seq: *([^\r\n]+)/i;

/**
 * `seed`: the SMTP faults' dice. `port`: a fixed port for the front. `direct`: no front (the relay
 * talks to the STARTTLS server itself; no network faults), for load where the extra copy matters.
 */
export async function startFaultyNextHop(options: { seed?: number; port?: number; direct?: boolean } = {}): Promise<FaultyNextHop> {
  const tls = await testCertificate();
  const seed = options.seed ?? 1;
  const seen = new Map<string, number>();
  // the same message meets the same fault at the same attempt on every run, whatever the timing
  const chance = (seq: string | undefined, stage: string): number => {
    const key = `${stage}:${seq ?? ''}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return seededRandom(seed ^ hashOf(`${key}:${n}`))();
  };
  const accepted = new Map<string, number>();
  const refused = new Set<string>();
  const mismatched: string[] = [];
  let dataStarted = 0;

  const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const connectionOf = (server: SMTPServer, session: SMTPServerSession): Socket | undefined => {
    for (const c of (server as unknown as { connections: Set<{ session?: SMTPServerSession; _socket?: Socket }> }).connections) {
      if (c.session?.id === session.id) return c._socket;
    }
    return undefined;
  };

  const makeServer = (withTls: boolean): SMTPServer => {
    const server: SMTPServer = new SMTPServer({
      key: tls.key,
      cert: tls.cert,
      authOptional: true,
      disabledCommands: withTls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      size: 200 * 1024 * 1024,
      onRcptTo(address, _session, cb) {
        const seq = seqOfRecipient(address.address);
        const r = chance(seq, 'rcpt');
        if (r < hop.smtp.tempfail / 2) return cb(smtpError(450, '4.2.1 fake next hop: mailbox busy, try again later'));
        if (r > 1 - hop.smtp.reject / 2) {
          if (seq) refused.add(seq);
          return cb(smtpError(550, '5.1.1 fake next hop: no such recipient'));
        }
        cb();
      },
      onData(stream, session, cb) {
        dataStarted++;
        const f = hop.smtp;
        const r = chance(seqOfRecipient(session.envelope.rcptTo[0]?.address ?? ''), 'data');
        const cut = f.reset + f.drop;
        const verdict = r < f.reset ? 'reset' : r < cut ? 'drop' : r < cut + f.reject / 2 ? 'reject' : r < cut + f.reject / 2 + f.tempfail / 2 ? 'tempfail' : 'accept';
        const reset = verdict === 'reset' || verdict === 'drop';
        let head = '';
        let seq: string | undefined;
        stream.on('data', (chunk: Buffer) => {
          if (reset) {
            const s = connectionOf(server, session);
            // the TCP socket under the TLS one: a reset must be a real RST
            const tcp = (s as unknown as { _parent?: Socket } | undefined)?._parent ?? s;
            if (tcp && !tcp.destroyed) {
              if (verdict === 'reset') tcp.resetAndDestroy();
              else tcp.destroy();
            }
            return;
          }
          if (seq === undefined && head.length < 65536) {
            head += chunk.toString('latin1');
            seq = SEQ_HEADER.exec(head.split(/\r?\n\r?\n/, 1)[0] ?? '')?.[1]?.trim();
          }
        });
        stream.on('end', () => {
          if (reset) return; // never answered: the connection is gone
          const rcptSeqs = session.envelope.rcptTo.map((a) => seqOfRecipient(a.address));
          if (verdict === 'reject') {
            for (const s of [seq, ...rcptSeqs]) if (s) refused.add(s);
            return cb(smtpError(554, '5.6.0 fake next hop refuses this message'));
          }
          if (verdict === 'tempfail') return cb(smtpError(451, '4.3.0 fake next hop: queue full, try again later'));
          const key = seq ?? `(no seq header: ${session.id})`;
          if (!seq || rcptSeqs.some((s) => s !== seq)) mismatched.push(`${key} arrived for ${rcptSeqs.join(',')}`);
          accepted.set(key, (accepted.get(key) ?? 0) + 1);
          cb(null, 'queued by faulty next hop');
        });
      },
    } as ConstructorParameters<typeof SMTPServer>[0]);
    server.on('error', () => undefined);
    return server;
  };

  const withTls = makeServer(true);
  const withoutTls = makeServer(false);
  const backends = await Promise.all([withTls, withoutTls].map(async (s) => {
    s.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    return (s.server.address() as { port: number }).port;
  }));

  // the front plays the network faults; new connections go to the server the SMTP faults call for
  const front = options.direct ? undefined : await startFaultyNetwork({ backend: () => (hop.smtp.noStartTls ? backends[1]! : backends[0]!), port: options.port });

  const hop: FaultyNextHop = {
    get port() {
      return front ? front.port : backends[0]!;
    },
    cert: tls.cert,
    accepted,
    refused,
    mismatched,
    get dataStarted() {
      return dataStarted;
    },
    get network() {
      return front?.fault ?? 'none';
    },
    smtp: { ...NO_SMTP_FAULTS },
    async setNetwork(fault: NetworkFault) {
      if (!front) throw new Error('a direct next hop has no network to break');
      await front.set(fault);
    },
    async close() {
      await front?.close();
      for (const s of [withTls, withoutTls]) {
        for (const c of (s as unknown as { connections: Set<{ _socket?: Socket }> }).connections) c._socket?.destroy();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
  return hop;
}
