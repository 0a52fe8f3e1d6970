// `sigops relay`: runs the signing relay until SIGTERM/SIGINT (see docs/relay.md).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
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

/**
 * Every relay flag that takes a value can also come from the environment: SIGOPS_ and the flag's
 * name in capitals (--deliver-timeout → SIGOPS_DELIVER_TIMEOUT), so a container or a systemd unit
 * configures the relay without a command line. A flag on the command line wins over its variable.
 * The one switch, --deliver-insecure-tls, has none: commander turns a switch on for any value
 * (SIGOPS_…=false too), and that one must never be switched on by accident.
 */
export const relayEnvName = (flag: string): string => `SIGOPS_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;

function fromEnv(flags: string, description: string, defaultValue?: string): Option {
  const option = new Option(flags, description).env(relayEnvName(flags.split(' ')[0]!));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description('run the signing relay (SMTP in with STARTTLS, sign, deliver back to Exchange Online)')
    .addOption(fromEnv('--config <dir>', 'config repository (local clone, watched for changes)'))
    .addOption(fromEnv('--repo <url>', 'clone this git repository into --config (default .sigops-config) and pull it'))
    .addOption(fromEnv('--branch <name>', 'branch of --repo', 'main'))
    .addOption(fromEnv('--pull-interval <seconds>', 'how often to pull --repo', '60'))
    .addOption(fromEnv('--listen <host:port>', 'SMTP listener', '0.0.0.0:25'))
    .addOption(fromEnv('--http <host:port>', 'serve /metrics, /healthz and /readyz'))
    .addOption(fromEnv('--hostname <name>', 'name in the greeting, EHLO and Received headers (default: the host name)'))
    .addOption(fromEnv('--deliver <smtp://host:port>', "send everything here instead of each tenant's deliverTo"))
    .addOption(fromEnv('--outbox <dir>', 'write delivered mail to <dir>/<timestamp>-<id>.eml (development)'))
    .addOption(fromEnv('--tls-cert <file>', 'listener certificate (PEM); a self-signed one is generated when missing'))
    .addOption(fromEnv('--tls-key <file>', 'listener private key (PEM)'))
    .addOption(fromEnv('--client-cert-dir <dir>', 'client certificates for the next hop: <dir>/<certificateDomain>.crt and .key'))
    .addOption(fromEnv('--deliver-ca <file>', 'extra CA certificate(s) (PEM) trusted for the next hop'))
    .option('--deliver-insecure-tls', 'accept any next-hop certificate (testing only)')
    .addOption(fromEnv('--deliver-timeout <seconds>', 'next-hop connect/greeting/idle timeout', '60'))
    .addOption(fromEnv('--allow <cidrs>', 'comma-separated source CIDRs allowed to connect; "exchange-online" = Microsoft\'s ranges'))
    .addOption(fromEnv('--allow-file <file>', 'allow-list file: one CIDR (or "exchange-online") per line, # comments'))
    .addOption(fromEnv('--require-client-cert <name>', 'accept mail only from clients presenting a verified TLS certificate for this name (production: mail.protection.outlook.com)'))
    .addOption(fromEnv('--client-ca <file>', 'extra CA certificate(s) (PEM) trusted for client certificates, besides the system store'))
    .addOption(fromEnv('--state <dir>', 'state directory (usage records, the Sent Items queue)', '.sigops-state'))
    .addOption(fromEnv('--drain-timeout <seconds>', 'on SIGTERM, how long messages in flight may take to finish', '30'))
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
