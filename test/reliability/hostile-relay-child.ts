// The relay as a process of its own, for the hostile cases whose memory is measured (its VmHWM
// is its own, not the test runner's) or that need limits the command line does not offer (a short
// idle timeout, few clients): the real runRelay(), as `sigops relay` runs it.
// Usage: node --max-semi-space-size=4 --import tsx hostile-relay-child.ts '<json ChildOptions>'
// Prints one JSON line {"smtp": port} once listening; stops on SIGTERM.
import { silentLogger } from '../../src/log/index.ts';
import { runRelay, type RelayLimits } from '../../src/relay/index.ts';

export interface ChildOptions {
  readonly config: string;
  readonly stateDir: string;
  readonly hopPort: number;
  /** PEM of the next hop's certificate. */
  readonly hopCa: string;
  readonly limits?: Partial<RelayLimits>;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const running = await runRelay({
  config: o.config,
  listen: { host: '127.0.0.1', port: 0 },
  hostname: 'relay.test',
  deliver: { host: '127.0.0.1', port: o.hopPort },
  deliverCa: Buffer.from(o.hopCa),
  deliverTimeoutMs: 30_000,
  stateDir: o.stateDir,
  limits: o.limits,
  log: silentLogger(),
});
process.stdout.write(JSON.stringify({ smtp: running.smtp.port }) + '\n');
process.once('SIGTERM', () => {
  void running.stop(1000).then(() => process.exit(0));
});
