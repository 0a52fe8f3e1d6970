// Baseline for bench/relay.ts: the thinnest relay built from the same libraries as sigops —
// smtp-server in (STARTTLS required), nodemailer pooled SMTP out, the DATA stream handed
// straight on, no parsing, no checks. Prints "listening <port>" on stdout.
//   node --import tsx bench/passthrough-relay.ts <sinkPort>
import { once } from 'node:events';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { generateSelfSigned } from '../src/relay/tls.ts';

const sinkPort = Number(process.argv[2]);
const tls = await generateSelfSigned('passthrough.bench');
const out = nodemailer.createTransport({
  pool: true,
  host: '127.0.0.1',
  port: sinkPort,
  secure: false,
  requireTLS: true,
  maxConnections: 10,
  maxMessages: 1000,
  tls: { rejectUnauthorized: false, minVersion: 'TLSv1.2' },
});
const server = new SMTPServer({
  key: tls.key,
  cert: tls.cert,
  minVersion: 'TLSv1.2',
  authOptional: true,
  disabledCommands: ['AUTH'],
  size: 150 * 1024 * 1024,
  disableReverseLookup: true,
  logger: false,
  onMailFrom(_a, session, cb) {
    cb(session.secure ? null : Object.assign(new Error('5.7.0 Must issue a STARTTLS command first'), { responseCode: 530 }));
  },
  onData(stream, session, cb) {
    out.sendMail({
      envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
      raw: stream,
    }).then(
      () => cb(null, 'relayed'),
      (err: { responseCode?: number; message?: string }) => {
        stream.resume();
        cb(Object.assign(new Error(err.message ?? 'failed'), { responseCode: err.responseCode && err.responseCode >= 500 ? err.responseCode : 451 }));
      },
    );
  },
} as ConstructorParameters<typeof SMTPServer>[0]);
server.on('error', () => undefined);
server.listen(0, '127.0.0.1');
await once(server.server, 'listening');
const a = server.server.address();
process.stdout.write(`listening ${typeof a === 'object' && a ? a.port : 0}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
