// `sigops relay`: runs the signing relay until SIGTERM/SIGINT (see docs/relay.md).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createRelayLogger, parseHostPort, runRelay } from '../../relay/index.ts';

interface RelayCliOptions {
  config?: string;
  repo?: string;
  branch: string;
  pullInterval: string;
  listen: string;
  http?: string;
  hostname?: string;
  deliver?: string;
  outbox?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCertDir?: string;
  deliverCa?: string;
  deliverInsecureTls?: boolean;
  deliverTimeout: string;
  allow?: string;
  allowFile?: string;
  requireClientCert?: string;
  clientCa?: string;
  state: string;
  drainTimeout: string;
}

const seconds = (v: string, name: string): number => {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of seconds`);
  return n * 1000;
};

function allowList(opts: RelayCliOptions): string[] | undefined {
  const specs: string[] = [];
  if (opts.allow) specs.push(opts.allow);
  if (opts.allowFile) {
    for (const line of readFileSync(opts.allowFile, 'utf8').split(/\r?\n/)) {
      const spec = line.replace(/#.*/, '').trim();
      if (spec) specs.push(spec);
    }
    if (specs.length === 0) throw new Error(`--allow-file ${opts.allowFile} lists no address: refusing to start with an empty allow-list`);
  }
  return specs.length > 0 ? specs : undefined;
}

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description('run the signing relay (SMTP in with STARTTLS, sign, deliver back to Exchange Online)')
    .option('--config <dir>', 'config repository (local clone, watched for changes)')
    .option('--repo <url>', 'clone this git repository into --config (default .sigops-config) and pull it')
    .option('--branch <name>', 'branch of --repo', 'main')
    .option('--pull-interval <seconds>', 'how often to pull --repo', '60')
    .option('--listen <host:port>', 'SMTP listener', '0.0.0.0:25')
    .option('--http <host:port>', 'serve /metrics, /healthz and /readyz')
    .option('--hostname <name>', 'name in the greeting, EHLO and Received headers (default: the host name)')
    .option('--deliver <smtp://host:port>', "send everything here instead of each tenant's deliverTo")
    .option('--outbox <dir>', 'write delivered mail to <dir>/<timestamp>-<id>.eml (development)')
    .option('--tls-cert <file>', 'listener certificate (PEM); a self-signed one is generated when missing')
    .option('--tls-key <file>', 'listener private key (PEM)')
    .option('--client-cert-dir <dir>', 'client certificates for the next hop: <dir>/<certificateDomain>.crt and .key')
    .option('--deliver-ca <file>', 'extra CA certificate(s) (PEM) trusted for the next hop')
    .option('--deliver-insecure-tls', 'accept any next-hop certificate (testing only)')
    .option('--deliver-timeout <seconds>', 'next-hop connect/greeting/idle timeout', '60')
    .option('--allow <cidrs>', 'comma-separated source CIDRs allowed to connect; "exchange-online" = Microsoft\'s ranges')
    .option('--allow-file <file>', 'allow-list file: one CIDR (or "exchange-online") per line, # comments')
    .option('--require-client-cert <name>', 'accept mail only from clients presenting a verified TLS certificate for this name (production: mail.protection.outlook.com)')
    .option('--client-ca <file>', 'extra CA certificate(s) (PEM) trusted for client certificates, besides the system store')
    .option('--state <dir>', 'state directory (usage records, the Sent Items queue)', '.sigops-state')
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long messages in flight may take to finish', '30')
    .action(async (opts: RelayCliOptions) => {
      const { log, flush } = createRelayLogger();
      if (!opts.config && !opts.repo) throw new Error('give --config DIR or --repo URL');
      if (opts.deliver && opts.outbox) throw new Error('--deliver and --outbox exclude each other');
      if (!!opts.tlsCert !== !!opts.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      if (opts.clientCa && !opts.requireClientCert) throw new Error('--client-ca only makes sense with --require-client-cert NAME');
      const running = await runRelay({
        ...{ log },
        config: opts.config ?? '.sigops-config',
        repo: opts.repo ? { url: opts.repo, branch: opts.branch, pullIntervalMs: seconds(opts.pullInterval, '--pull-interval') } : undefined,
        listen: parseHostPort(opts.listen, 25, true),
        http: opts.http ? parseHostPort(opts.http, 9025, true) : undefined,
        hostname: opts.hostname,
        deliver: opts.deliver ? parseHostPort(opts.deliver) : undefined,
        outbox: opts.outbox,
        tlsCert: opts.tlsCert,
        tlsKey: opts.tlsKey,
        clientCertDir: opts.clientCertDir,
        deliverCa: opts.deliverCa ? readFileSync(opts.deliverCa) : undefined,
        deliverInsecureTls: opts.deliverInsecureTls,
        deliverTimeoutMs: seconds(opts.deliverTimeout, '--deliver-timeout'),
        allow: allowList(opts),
        requireClientCert: opts.requireClientCert ? { name: opts.requireClientCert, extraCa: opts.clientCa ? readFileSync(opts.clientCa) : undefined } : undefined,
        stateDir: opts.state,
        // the Sent Items update (docs/sent-items.md) reaches Graph where SIGOPS_GRAPH_URL / SIGOPS_LOGIN_URL say, if set
        sentItems: {
          graph: {
            ...(process.env.SIGOPS_GRAPH_URL ? { graphUrl: process.env.SIGOPS_GRAPH_URL } : {}),
            ...(process.env.SIGOPS_LOGIN_URL ? { loginUrl: process.env.SIGOPS_LOGIN_URL } : {}),
          },
        },
      }).catch(async (err: unknown) => {
        log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'relay did not start');
        await flush();
        throw err;
      });
      const graceMs = seconds(opts.drainTimeout, '--drain-timeout');
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal, inFlight: running.relay.messagesInFlight, graceMs }, 'stopping: no new mail, finishing messages in flight');
          void running.stop(graceMs).then(async ({ drained }) => {
            log.info({ drained }, 'relay stopped');
            await flush();
            resolve();
          });
        };
        // `on`, not `once`: the same signal can arrive twice (from bin/sigops, which passes it on,
        // and from a terminal or supervisor that signals the whole group); a repeat must not cut
        // the drain short
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      process.exitCode = 0;
    });
}
