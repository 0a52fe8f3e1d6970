// Benchmark of the signing relay against a bare pass-through relay built from the same
// libraries (bench/passthrough-relay.ts: smtp-server in, nodemailer out, no parsing). Same
// machine, same messages (the shared corpus + realistic Outlook replies), persistent STARTTLS
// connections, 10 concurrent connections, alternating rounds. A third relay is sigops with every
// tenant paused (the same relay without the signing) to show where the difference comes from.
// Also: per-connection setup cost
// (connect + greeting + EHLO + STARTTLS + EHLO) and the peak RSS of each relay process while a
// 100 MB message goes through.
//
//   npm run bench:relay        (or: node --import tsx bench/relay.ts [--messages N] [--rounds R] [--mix replies] [--write])
//
// --write records the report in bench/results/relay.md (relay-replies.md with --mix replies).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { generateSelfSigned } from '../src/relay/tls.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const MESSAGES = arg('--messages', 1000);
const ROUNDS = arg('--rounds', 6);
const CONCURRENCY = arg('--concurrency', 10);
const WARMUP = arg('--warmup', 1000);
// Node flags for the relay processes. bin/sigops applies the relay's own (a 4 MB young generation,
// docs/relay.md "Performance") when none is given, so sigops run through it gets none by default,
// as an operator runs it; the pass-through relay and the bundled sigops, which bin/sigops does not
// start, get the same flag so that every relay runs with the same collector settings.
// --node-flags "…" gives every relay these flags instead.
const RELAY_FLAGS = ['--max-semi-space-size=4'];
const NODE_FLAGS_GIVEN = args.includes('--node-flags') ? (args[args.indexOf('--node-flags') + 1] ?? '').split(' ').filter(Boolean) : undefined;
const NODE_FLAGS = NODE_FLAGS_GIVEN ?? RELAY_FLAGS;
const flagsFor = (entry: readonly string[]) => NODE_FLAGS_GIVEN ?? (entry[0] === 'bin/sigops' ? [] : RELAY_FLAGS);
// --mix replies: only the generated Outlook replies (the commonest kind of message), to split the
// difference by kind of message; its report goes to bench/results/relay-replies.md
const MIX = args.includes('--mix') ? args[args.indexOf('--mix') + 1] : 'all';
if (MIX !== 'all' && MIX !== 'replies') throw new Error(`--mix is all or replies, not ${MIX}`);
const BIG_BYTES = 100 * 1024 * 1024;
const CONTOSO = '7c1f3c55-2d3e-4b8a-9f51-0a4e5f2b9c10';
const tmp = mkdtempSync(join(tmpdir(), 'sigops-bench-relay-'));

// ---- the next hop: accepts and discards (counts bytes) -------------------------------------
const sinkTls = await generateSelfSigned('sink.bench');
let sinkBytes = 0;
const sink = new SMTPServer({
  key: sinkTls.key,
  cert: sinkTls.cert,
  authOptional: true,
  disabledCommands: ['AUTH'],
  disableReverseLookup: true,
  size: 200 * 1024 * 1024,
  logger: false,
  onData(stream, _s, cb) {
    stream.on('data', (c: Buffer) => (sinkBytes += c.length));
    stream.on('end', () => cb(null, 'ok'));
  },
} as ConstructorParameters<typeof SMTPServer>[0]);
sink.on('error', () => undefined);
sink.listen(0, '127.0.0.1');
await once(sink.server, 'listening');
const sinkPort = (sink.server.address() as { port: number }).port;

// ---- relays as child processes --------------------------------------------------------------
interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The process that relays (bin/sigops runs the relay as its own child): RSS and CPU are read from it. */
  readonly pid: number;
  readonly port: number;
}

// Production-like variants: each relay bundled with esbuild and run by plain node (no TypeScript
// loader in memory). The bundle sits two levels below a folder that links schemas/, where the
// config loader looks for them relative to its own file.
const bundleDir = join(tmp, 'bundle', 'a', 'b');
async function bundles(): Promise<{ sigops: string; pass: string }> {
  const { build } = await import('esbuild');
  mkdirSync(bundleDir, { recursive: true });
  symlinkSync(join(ROOT, 'schemas'), join(tmp, 'bundle', 'schemas'));
  const common = {
    bundle: true, platform: 'node' as const, format: 'esm' as const, target: 'node20', logLevel: 'warning' as const,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  };
  await build({ ...common, entryPoints: [join(ROOT, 'src/cli/main.ts')], outfile: join(bundleDir, 'sigops.mjs') });
  await build({ ...common, entryPoints: [join(ROOT, 'bench/passthrough-relay.ts')], outfile: join(bundleDir, 'passthrough.mjs') });
  return { sigops: join(bundleDir, 'sigops.mjs'), pass: join(bundleDir, 'passthrough.mjs') };
}

// The example config with every tenant paused: the same relay, the same checks, logs and
// metrics, but every message passes unsigned. Shows what the relay costs apart from signing.
function pausedConfig(): string {
  const dir = join(tmp, 'config-paused');
  cpSync(join(ROOT, 'example-config'), dir, { recursive: true });
  for (const f of readdirSync(join(dir, 'tenants'))) {
    const file = join(dir, 'tenants', f);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^enabled: true$/m, 'enabled: false'));
  }
  return dir;
}

let logNo = 0;
async function startSigning(entry: string[] = ['bin/sigops'], config = 'example-config', name = 'sigops relay'): Promise<Child> {
  // logs go to a file, as journald or a container runtime would take them: a bench process
  // busy with load must not be the relay's slow log reader
  const logFile = join(tmp, `relay-${++logNo}.log`);
  const fd = openSync(logFile, 'w');
  const proc = spawn(
    process.execPath,
    [...flagsFor(entry), ...entry, 'relay', '--config', config, '--listen', '127.0.0.1:0', '--deliver', `smtp://127.0.0.1:${sinkPort}`,
      '--deliver-insecure-tls', '--state', join(tmp, 'state'), '--hostname', 'relay.bench'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', fd], env: { ...process.env, SIGOPS_LOG_LEVEL: 'info' } },
  );
  closeSync(fd);
  let exited = false;
  proc.once('exit', () => (exited = true));
  let port = 0;
  while (!port) {
    if (exited) throw new Error(`signing relay exited: ${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
    port = Number(/"msg":"relay listening"/.test(readFileSync(logFile, 'utf8')) ? /"smtp":"[^"]*:(\d+)"/.exec(readFileSync(logFile, 'utf8'))?.[1] : 0);
  }
  const listening = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"msg":"relay listening"')) ?? '';
  const pid = Number(/"pid":(\d+)/.exec(listening)?.[1] ?? proc.pid);
  return { name, proc, pid, port };
}

async function startPassThrough(entry: string[] = ['--import', 'tsx', 'bench/passthrough-relay.ts']): Promise<Child> {
  const proc = spawn(process.execPath, [...flagsFor(entry), ...entry, String(sinkPort)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      const m = /^listening (\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`pass-through relay exited ${c}`)));
  });
  return { name: 'pass-through', proc, pid: proc.pid!, port };
}

async function stop(c: Child): Promise<void> {
  c.proc.kill('SIGTERM');
  if (c.proc.exitCode === null) await once(c.proc, 'exit');
}

/**
 * CPU time of a process (all its threads) or, with `eventLoop`, of its main thread alone (the
 * JavaScript event loop, where smtp-server, nodemailer and the engine run), in seconds.
 */
function cpuSeconds(pid: number, eventLoop = false): number {
  const stat = readFileSync(eventLoop ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks of 10 ms
}

/** Peak resident set size of a process so far (Linux VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ---- messages: the corpus + realistic replies ------------------------------------------------
function withTenant(raw: string): string {
  const clean = raw.replace(/^X-MS-Exchange-CrossTenant-Id:.*\r?\n/gim, '');
  return `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}\r\n${clean}`;
}

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

function outlookReply(i: number): string {
  const depth = 1 + Math.floor(rand() * 5);
  const b = `_000_bench${i}_`;
  const para = 'Thanks for the update. We reviewed the figures with the team and would like to move ahead with the proposal as discussed on our call. ';
  let quotedText = '';
  let quotedHtml = '';
  for (let d = 0; d < depth; d++) {
    quotedText += `\r\n________________________________\r\nFrom: Person ${d} <p${d}@example.org>\r\nSent: Friday, November 20, 2026 4:1${d} PM\r\nSubject: RE: Project ${i}\r\n\r\n${para.repeat(2 + d)}\r\n`;
    quotedHtml += `<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Person ${d} &lt;p${d}@example.org&gt;<br><b>Sent:</b> Friday, November 20, 2026<br><b>Subject:</b> RE: Project ${i}</div><div>${para.repeat(2 + d)}</div>`;
  }
  const attach = rand() < 0.3 ? Buffer.alloc(20_000 + Math.floor(rand() * 180_000), i % 251).toString('base64').replace(/.{76}/g, '$&\r\n') : '';
  const alt = [
    `--${b}alt`, 'Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: quoted-printable', '',
    `Hi,\r\n\r\n${para}\r\n\r\nAlice${quotedText}`, '',
    `--${b}alt`, 'Content-Type: text/html; charset="utf-8"', 'Content-Transfer-Encoding: quoted-printable', '',
    `<html><body><div style=3D"font-family:Aptos">Hi,<br><br>${para}<br><br>Alice</div><div id=3D"appendonsend"></div>${quotedHtml.replace(/=/g, '=3D')}</body></html>`, '',
    `--${b}alt--`,
  ].join('\r\n');
  const headers = [
    `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`,
    'From: Alice Example <alice@contoso.com>', 'To: Bob Customer <bob@example.org>', `Subject: RE: Project ${i}`,
    'Date: Sun, 22 Nov 2026 08:00:00 +0000', `Message-ID: <bench-${i}@contoso.com>`, 'MIME-Version: 1.0',
  ];
  if (!attach) return [...headers, `Content-Type: multipart/alternative; boundary="${b}alt"`, '', alt, ''].join('\r\n');
  return [
    ...headers, `Content-Type: multipart/mixed; boundary="${b}"`, '',
    `--${b}`, `Content-Type: multipart/alternative; boundary="${b}alt"`, '', alt, '',
    `--${b}`, 'Content-Type: application/pdf; name="quote.pdf"', 'Content-Disposition: attachment; filename="quote.pdf"', 'Content-Transfer-Encoding: base64', '',
    attach, `--${b}--`, '',
  ].join('\r\n');
}

// The shared corpus lives beside the checkout (or SIGOPS_CORPUS); on a fresh clone without it the
// mix is the generated replies only, and the report says how many corpus messages it had.
const corpusDir = process.env.SIGOPS_CORPUS ?? join(ROOT, '..', 'shared', 'corpus');
const corpusFiles: string[] = [];
const walk = (d: string) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.eml')) corpusFiles.push(p);
  }
};
if (existsSync(corpusDir)) walk(corpusDir);
else process.stderr.write(`no shared corpus at ${corpusDir}: generated replies only (set SIGOPS_CORPUS)\n`);
const messages: string[] = [];
if (MIX === 'all') for (const f of corpusFiles.sort()) messages.push(withTenant(readFileSync(f, 'latin1')));
const corpusCount = messages.length;
for (let i = 0; messages.length < 100; i++) messages.push(outlookReply(i));
const avgBytes = messages.reduce((n, m) => n + m.length, 0) / messages.length;

// ---- load ----------------------------------------------------------------------------------
interface LoadResult {
  readonly perSecond: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly failures: number;
  /** CPU time of the relay process per message (ms), when measured: all threads, and the event loop alone. */
  readonly cpuMs?: number;
  readonly loopCpuMs?: number;
  /** Share of one core used by the relay process, and by this process (client + next hop). */
  readonly relayBusy?: number;
  readonly benchBusy?: number;
}

async function load(port: number, count: number, pid?: number): Promise<LoadResult> {
  const transport = nodemailer.createTransport({
    pool: true, host: '127.0.0.1', port, secure: false, requireTLS: true, maxConnections: CONCURRENCY, maxMessages: Infinity,
    tls: { rejectUnauthorized: false }, socketTimeout: 60_000,
  });
  const envelope = { from: 'alice@contoso.com', to: ['bob@example.org'] };
  let next = 0;
  let failures = 0;
  const lat: number[] = [];
  const worker = async (measure: boolean, total: number) => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      try {
        await transport.sendMail({ envelope, raw: messages[i % messages.length]! });
      } catch {
        failures++;
      }
      if (measure) lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(false, WARMUP))); // connections up, JIT warm
  next = 0;
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const loop0 = pid ? cpuSeconds(pid, true) : 0;
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(true, count)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = pid ? ((cpuSeconds(pid) - cpu0) * 1000) / count : undefined;
  const loopCpuMs = pid ? ((cpuSeconds(pid, true) - loop0) * 1000) / count : undefined;
  const own = process.cpuUsage(own0);
  const benchBusy = (own.user + own.system) / 1e6 / seconds;
  const relayBusy = cpuMs !== undefined ? (cpuMs * count) / 1000 / seconds : undefined;
  transport.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { perSecond: count / seconds, p50: q(0.5), p90: q(0.9), p99: q(0.99), failures, cpuMs, loopCpuMs, relayBusy, benchBusy };
}

/** Median cost of a fresh connection: TCP connect, greeting (incl. smtp-server's 100 ms early-talker wait), EHLO, STARTTLS, EHLO. */
async function connectionCost(port: number, n = 15): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const sock = netConnect(port, '127.0.0.1');
    let buf = '';
    const waitFor = (re: RegExp, s: NodeJS.ReadableStream) =>
      new Promise<void>((resolve) => {
        const on = (d: Buffer) => {
          buf += d.toString();
          if (re.test(buf)) {
            s.removeListener('data', on);
            buf = '';
            resolve();
          }
        };
        s.on('data', on);
      });
    await waitFor(/^220 .*\r\n/m, sock);
    sock.write('EHLO bench\r\n');
    await waitFor(/^250 .*\r\n/m, sock);
    sock.write('STARTTLS\r\n');
    await waitFor(/^220 .*\r\n/m, sock);
    const tls = tlsConnect({ socket: sock, rejectUnauthorized: false });
    await once(tls, 'secureConnect');
    tls.write('EHLO bench\r\n');
    await waitFor(/^250 .*\r\n/m, tls);
    times.push(performance.now() - t0);
    tls.write('QUIT\r\n');
    tls.destroy();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** A 100 MB reply: a short text part and a ~100 MB base64 attachment, generated as it streams. */
function bigMessage(): Readable {
  const head = [
    `X-MS-Exchange-CrossTenant-Id: ${CONTOSO}`, 'From: Alice Example <alice@contoso.com>', 'To: Bob <bob@example.org>',
    'Subject: RE: the full data set', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="big"', '',
    '--big', 'Content-Type: text/plain; charset=utf-8', '', 'Hi Bob, the full export is attached.', '',
    '________________________________', 'From: Bob <bob@example.org>', 'Subject: the full data set', '', 'Could you send everything?', '',
    '--big', 'Content-Type: application/octet-stream; name="export.bin"', 'Content-Transfer-Encoding: base64', '',
  ].join('\r\n') + '\r\n';
  const line = Buffer.alloc(57, 7).toString('base64') + '\r\n'; // 78 bytes
  const lines = Math.floor((BIG_BYTES - head.length - 16) / line.length);
  const block = Buffer.from(line.repeat(1024));
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) this.push(head);
      if (sent >= lines) {
        this.push('--big--\r\n');
        this.push(null);
        return;
      }
      const n = Math.min(1024, lines - sent);
      this.push(n === 1024 ? block : Buffer.from(line.repeat(n)));
      sent += n;
    },
  });
}

async function bigThrough(start: () => Promise<Child>): Promise<{ rssIdle: number; rssPeak: number; seconds: number; ok: boolean; bytes: number }> {
  const c = await start();
  try {
    await connectionCost(c.port, 1);
    const rssIdle = peakRssMb(c.pid);
    const before = sinkBytes;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: c.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, socketTimeout: 120_000 });
    const t0 = performance.now();
    let ok = true;
    try {
      await transport.sendMail({ envelope: { from: 'alice@contoso.com', to: ['bob@example.org'] }, raw: bigMessage() });
    } catch (err) {
      ok = false;
      process.stderr.write(`100 MB message through ${c.name} failed: ${String(err)}\n`);
    }
    const seconds = (performance.now() - t0) / 1000;
    transport.close();
    return { rssIdle, rssPeak: peakRssMb(c.pid), seconds, ok, bytes: sinkBytes - before };
  } finally {
    await stop(c);
  }
}

// ---- run -----------------------------------------------------------------------------------
if (args.includes('--big-only')) {
  const sgn = await bigThrough(() => startSigning());
  const pst = await bigThrough(() => startPassThrough());
  const b = await bundles();
  const sgnB = await bigThrough(() => startSigning([b.sigops]));
  const pstB = await bigThrough(() => startPassThrough([b.pass]));
  for (const [name, r] of [['sigops (tsx)', sgn], ['pass-through (tsx)', pst], ['sigops (bundle)', sgnB], ['pass-through (bundle)', pstB]] as const) {
    process.stdout.write(`100 MB ${name}: idle ${r.rssIdle.toFixed(0)} MB, peak ${r.rssPeak.toFixed(0)} MB, ${r.seconds.toFixed(1)} s, ok=${r.ok}\n`);
  }
  rmSync(tmp, { recursive: true, force: true });
  sink.close();
  process.exit(0);
}
process.stderr.write(`messages: ${corpusCount} corpus + ${messages.length - corpusCount} replies, avg ${(avgBytes / 1024).toFixed(1)} KB; ${MESSAGES} per round, ${ROUNDS} rounds, ${CONCURRENCY} connections\n`);
const direct = await load(sinkPort, Math.min(MESSAGES, 1000));
const signing = await startSigning();
const paused = await startSigning(undefined, pausedConfig(), 'sigops, signing off');
const pass = await startPassThrough();
const results: Record<string, LoadResult[]> = { [signing.name]: [], [pass.name]: [], [paused.name]: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const c of r % 2 === 0 ? [pass, signing, paused] : [paused, signing, pass]) {
    const res = await load(c.port, MESSAGES, c.pid);
    results[c.name]!.push(res);
    process.stderr.write(`round ${r + 1} ${c.name}: ${res.perSecond.toFixed(0)} msg/s, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, relay CPU ${res.cpuMs?.toFixed(2)} ms/msg, event loop ${res.loopCpuMs?.toFixed(2)} ms/msg (busy ${((res.relayBusy ?? 0) * 100).toFixed(0)} %), bench process busy ${((res.benchBusy ?? 0) * 100).toFixed(0)} %, failures ${res.failures}\n`);
  }
}
const connSign = await connectionCost(signing.port);
const connPass = await connectionCost(pass.port);
const rssAfterLoad = { sign: peakRssMb(signing.pid), pass: peakRssMb(pass.pid) };
await stop(signing);
await stop(paused);
await stop(pass);
const bigSign = await bigThrough(() => startSigning());
const bigPass = await bigThrough(() => startPassThrough());
const built = await bundles();
const bigSignBundle = await bigThrough(() => startSigning([built.sigops]));
const bigPassBundle = await bigThrough(() => startPassThrough([built.pass]));
sink.close();
rmSync(tmp, { recursive: true, force: true });

const best = (rs: LoadResult[]): LoadResult => {
  const med = (f: (r: LoadResult) => number) => {
    const v = rs.map(f).sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)]!;
  };
  return {
    perSecond: med((r) => r.perSecond), p50: med((r) => r.p50), p90: med((r) => r.p90), p99: med((r) => r.p99),
    cpuMs: med((r) => r.cpuMs ?? NaN), loopCpuMs: med((r) => r.loopCpuMs ?? NaN), failures: rs.reduce((n, r) => n + r.failures, 0),
  };
};
const S = best(results[signing.name]!);
const P = best(results[pass.name]!);
const Q = best(results[paused.name]!);
// rounds run in adjacent pairs (A B, B A, …): the ratio of each pair is measured under the same
// machine conditions, and the median pair is reported (other work on a shared machine shows up
// as slow rounds for both)
const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const pairs = results[signing.name]!.map((s, i) => ({ s, p: results[pass.name]![i]! }));
const ratio = medianOf(pairs.map(({ s, p }) => s.perSecond / p.perSecond));
const addedP50 = medianOf(pairs.map(({ s, p }) => s.p50 - p.p50));
const addedP99 = medianOf(pairs.map(({ s, p }) => s.p99 - p.p99));
const cpuRatio = medianOf(pairs.map(({ s, p }) => (p.cpuMs ?? NaN) / (s.cpuMs ?? NaN)));
const pausedRatio = medianOf(results[paused.name]!.map((q, i) => q.perSecond / results[pass.name]![i]!.perSecond));
const pausedCpuRatio = medianOf(results[paused.name]!.map((q, i) => (results[pass.name]![i]!.cpuMs ?? NaN) / (q.cpuMs ?? NaN)));
const f = (n: number, d = 2) => n.toFixed(d);
const report = `# Relay benchmark

\`npm run bench:relay\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version})

Same machine, same messages for every relay (${MIX === 'replies' ? '`--mix replies`: ' : ''}${corpusCount} messages of the shared corpus + ${messages.length - corpusCount} generated Outlook
replies with 1–5 quoted messages, 30 % with a 20–200 KB attachment; average ${f(avgBytes / 1024, 1)} KB), ${CONCURRENCY} persistent
STARTTLS connections from a nodemailer pool, ${MESSAGES} messages per round after ${WARMUP} warm-up messages, ${ROUNDS} alternating
rounds (median shown). Both relays deliver through a pooled nodemailer STARTTLS connection to the same discarding
smtp-server next hop. The pass-through relay (\`bench/passthrough-relay.ts\`) is smtp-server in, nodemailer out, no
parsing. Latency is per message at the client (MAIL FROM to the final reply, next hop included).
Both relay processes run under tsx (as \`bin/sigops\` does) with node flags \`${NODE_FLAGS.join(' ') || '(none)'}\`${NODE_FLAGS_GIVEN ? '' : ' (sigops: applied by `bin/sigops` itself, none given on its command line)'}.

| | messages/s | p50 ms | p90 ms | p99 ms | relay CPU ms/msg, all threads | event loop | failures |
|---|---:|---:|---:|---:|---:|---:|---:|
| next hop direct (no relay, context) | ${f(direct.perSecond, 0)} | ${f(direct.p50)} | ${f(direct.p90)} | ${f(direct.p99)} | | | ${direct.failures} |
| pass-through relay | ${f(P.perSecond, 0)} | ${f(P.p50)} | ${f(P.p90)} | ${f(P.p99)} | ${f(P.cpuMs ?? NaN)} | ${f(P.loopCpuMs ?? NaN)} | ${P.failures} |
| **sigops relay** (signing) | **${f(S.perSecond, 0)}** | **${f(S.p50)}** | ${f(S.p90)} | **${f(S.p99)}** | ${f(S.cpuMs ?? NaN)} | ${f(S.loopCpuMs ?? NaN)} | ${S.failures} |
| sigops relay, signing off (every tenant paused: same checks, logs, metrics; no signing) | ${f(Q.perSecond, 0)} | ${f(Q.p50)} | ${f(Q.p90)} | ${f(Q.p99)} | ${f(Q.cpuMs ?? NaN)} | ${f(Q.loopCpuMs ?? NaN)} | ${Q.failures} |

- Throughput: sigops reaches **${f(ratio * 100, 1)} %** of the pass-through (median of the per-pair ratios; target ≥ 85 %): ${ratio >= 0.85 ? 'met' : 'NOT met'}.
- With signing off, the same relay reaches **${f(pausedRatio * 100, 1)} %** of the pass-through's throughput (CPU capacity ${f(pausedCpuRatio * 100, 0)} %):
  the gap between this and the pass-through is what the relay around the signing costs (identity checks, header
  parsing, the Received line, logs, metrics); the gap between this and the signing relay is what signing costs.
- Added latency (median of the per-pair differences): p50 **${addedP50 >= 0 ? '+' : ''}${f(addedP50)} ms**, p99 **${addedP99 >= 0 ? '+' : ''}${f(addedP99)} ms** (target p99 ≤ +10 ms): ${addedP99 <= 10 ? 'met' : 'NOT met'}.
- CPU per message of the relay process (all its threads: sigops signs text parts of 128 KB or more on a worker thread):
  sigops ${f(S.cpuMs ?? NaN)} ms, pass-through ${f(P.cpuMs ?? NaN)} ms. By CPU per message, which other load on the machine disturbs
  least, sigops has **${f(cpuRatio * 100, 0)} %** of the pass-through's capacity.
- Event loop (the main thread, where smtp-server, nodemailer and the engine all run) per message: pass-through
  ${f(P.loopCpuMs ?? NaN)} ms, signing off ${f(Q.loopCpuMs ?? NaN)} ms (+${f((Q.loopCpuMs ?? NaN) - (P.loopCpuMs ?? NaN))}), signing ${f(S.loopCpuMs ?? NaN)} ms (+${f((S.loopCpuMs ?? NaN) - (P.loopCpuMs ?? NaN))}).
  Even if the rate fell only in proportion to event-loop time (queueing at 10 connections makes it fall faster),
  85 % would leave sigops ${f((P.loopCpuMs ?? NaN) / 0.85 - (P.loopCpuMs ?? NaN))} ms per message more than the pass-through for everything it does.
- Per round (in order): ${pairs.map(({ s, p }, i) => `${f(s.perSecond, 0)}/${f(results[paused.name]![i]!.perSecond, 0)}/${f(p.perSecond, 0)}`).join(', ')} msg/s (sigops/signing off/pass-through);
  relay CPU busy ${pairs.map(({ s, p }) => `${f((s.relayBusy ?? 0) * 100, 0)}/${f((p.relayBusy ?? 0) * 100, 0)}`).join(', ')} %; load generator + next hop busy ${pairs.map(({ s, p }) => `${f((s.benchBusy ?? 0) * 100, 0)}/${f((p.benchBusy ?? 0) * 100, 0)}`).join(', ')} %.

Per-connection setup (median of 15: TCP connect, greeting, EHLO, STARTTLS, TLS handshake, EHLO; includes smtp-server's
100 ms early-talker wait before the greeting, which is why Exchange-style connection reuse matters):
sigops **${f(connSign, 1)} ms**, pass-through ${f(connPass, 1)} ms.

Peak RSS of the relay process after the load rounds: sigops ${f(rssAfterLoad.sign, 0)} MB, pass-through ${f(rssAfterLoad.pass, 0)} MB.

A 100 MB message (text reply + ~100 MB base64 attachment), one fresh relay process each, peak RSS (VmHWM):

| | idle RSS MB | peak RSS MB | seconds | delivered |
|---|---:|---:|---:|---|
| pass-through relay (tsx) | ${f(bigPass.rssIdle, 0)} | ${f(bigPass.rssPeak, 0)} | ${f(bigPass.seconds, 1)} | ${bigPass.ok ? `yes, ${f(bigPass.bytes / 1048576, 1)} MB` : 'NO'} |
| **sigops relay** (\`bin/sigops\`, tsx) | ${f(bigSign.rssIdle, 0)} | **${f(bigSign.rssPeak, 0)}** | ${f(bigSign.seconds, 1)} | ${bigSign.ok ? `yes, ${f(bigSign.bytes / 1048576, 1)} MB` : 'NO'} |
| pass-through relay (esbuild bundle, plain node) | ${f(bigPassBundle.rssIdle, 0)} | ${f(bigPassBundle.rssPeak, 0)} | ${f(bigPassBundle.seconds, 1)} | ${bigPassBundle.ok ? `yes, ${f(bigPassBundle.bytes / 1048576, 1)} MB` : 'NO'} |
| **sigops relay** (esbuild bundle of the CLI, plain node) | ${f(bigSignBundle.rssIdle, 0)} | **${f(bigSignBundle.rssPeak, 0)}** | ${f(bigSignBundle.seconds, 1)} | ${bigSignBundle.ok ? `yes, ${f(bigSignBundle.bytes / 1048576, 1)} MB` : 'NO'} |

Target: sigops peak RSS under 150 MB: ${bigSign.ok && bigSign.rssPeak < 150 ? 'met' : 'NOT met'} as \`bin/sigops\` runs it (tsx), ${bigSignBundle.ok && bigSignBundle.rssPeak < 150 ? 'met' : 'NOT met'} bundled.
`;
process.stdout.write(report);
if (args.includes('--write')) writeFileSync(join(ROOT, 'bench', 'results', MIX === 'replies' ? 'relay-replies.md' : 'relay.md'), report);
process.exit(0);
