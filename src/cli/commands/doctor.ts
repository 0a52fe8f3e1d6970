// `sigops doctor`: the read-only preflight (docs/exchange.md, "sigops doctor"): per tenant, what
// outside the config repository would stop sigops from working, and what to fix.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { exchangeOptionsFromEnv } from '../../exchange/index.ts';
import { DoctorOptionError, findingCounts, parseConnectTo, renderDoctorReport, runDoctor, type ConnectTo, type DoctorFormat } from '../../doctor/index.ts';
import { loadConfigOrReport } from '../config.ts';
import { reportError } from '../report.ts';

interface DoctorCliOptions {
  config: string;
  tenant?: string;
  clientCertDir?: string;
  format: DoctorFormat;
  warningsOk?: boolean;
  connectTo?: string[];
  ca?: string;
  timeout: string;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('read-only preflight per tenant: app permission and Exchange role, accepted domains, smart host (DNS, port 25, STARTTLS, certificate), relay client certificate')
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .option('-t, --tenant <slug>', 'only this tenant')
    .option('--client-cert-dir <dir>', "the relay's --client-cert-dir: check <certificateDomain>.crt/.key there")
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--warnings-ok', 'exit 0 when there are warnings but no errors')
    .option(
      '--connect-to <host:port:address:port>',
      'probe ADDRESS:PORT instead of HOST:PORT, without looking HOST up (as curl\'s option; repeatable)',
      (value: string, all: string[] | undefined) => [...(all ?? []), value],
    )
    .option('--ca <file>', 'also trust this CA (PEM) for the smart host and client certificates (Exchange Online trusts public CAs only)')
    .option('--timeout <seconds>', 'time allowed for each step of the SMTP probe and each DNS query', '10')
    .addHelpText(
      'after',
      `
Credentials come from the environment as for plan (SIGOPS_CLIENT_ID with SIGOPS_CLIENT_SECRET,
SIGOPS_CLIENT_CERTIFICATE or the GitHub Actions OIDC token). Only read-only cmdlets run:
whether the app may also change objects cannot be proven without changing one.

Exit status: 0 nothing to fix (with --warnings-ok: no errors), 1 findings (or an unusable
option or config).

Examples:
  $ sigops doctor --config . --client-cert-dir /etc/sigops/client-certs
  $ sigops doctor --config . --tenant contoso --format json
  $ sigops doctor --config . --connect-to relay.example.net:25:10.0.0.5:25
`,
    )
    .action(async (opts: DoctorCliOptions) => {
      try {
        const connectTo = (opts.connectTo ?? []).map(connectToOption);
        const timeout = Number(opts.timeout);
        if (!(timeout > 0)) throw new DoctorOptionError(`--timeout ${opts.timeout} is not a positive number of seconds`, 'Give --timeout a number of seconds, e.g. 10.');
        const ca = opts.ca !== undefined ? readCa(opts.ca) : undefined;
        const config = await loadConfigOrReport(opts.config);
        if (!config) {
          process.exitCode = 1;
          return;
        }
        const report = await runDoctor({
          config,
          exchange: exchangeOptionsFromEnv(),
          connectTo,
          timeoutMs: timeout * 1000,
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          ...(opts.clientCertDir !== undefined ? { clientCertDir: opts.clientCertDir } : {}),
          ...(ca !== undefined ? { ca } : {}),
        });
        process.stdout.write(renderDoctorReport(report, opts.format));
        const { errors, warnings } = findingCounts(report);
        process.exitCode = errors > 0 || (warnings > 0 && !opts.warningsOk) ? 1 : 0;
      } catch (err) {
        reportError('doctor', err);
        process.exitCode = 1;
      }
    });
}

function connectToOption(value: string): ConnectTo {
  const parsed = parseConnectTo(value);
  if (!parsed) {
    throw new DoctorOptionError(`--connect-to ${value} is not HOST:PORT:ADDRESS:PORT`, 'Write it as curl does, e.g. relay.example.net:25:127.0.0.1:2525 (IPv6 addresses in brackets).');
  }
  return parsed;
}

function readCa(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DoctorOptionError(`cannot read --ca ${path}: ${(err as Error).message}`, 'Give --ca a PEM file with the CA certificate(s) to trust.');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new DoctorOptionError(`--ca ${path} holds no PEM certificate`, 'Give --ca a PEM file with the CA certificate(s) to trust.');
  return pem;
}
