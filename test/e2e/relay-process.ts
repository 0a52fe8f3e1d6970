// Runs `bin/sigops relay` as a child process on ephemeral ports, for end-to-end tests. bin/sigops
// may run the relay itself as its own child (with the Node flags it needs): `relayPid` is the
// process that serves, `child` the one started here (signals go to it, it exits as the relay does).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROJECT = fileURLToPath(new URL('../..', import.meta.url));

export interface RelayProcess {
  readonly child: ChildProcess;
  /** The relay's own process (from its "relay listening" line). */
  readonly relayPid: number;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Parsed JSON log lines so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** The exit code of the process started here, once the relay's own process is gone too. */
  exited: Promise<number | null>;
  /** Signals the process started here; SIGKILL also goes to the relay's own process (nothing forwards it). */
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  /** Execute ./bin/sigops itself (its `#!/usr/bin/env node` line), as an installed `sigops` runs, instead of `node bin/sigops`. */
  readonly direct?: boolean;
  readonly env?: Record<string, string>;
}

export async function startRelayProcess(args: string[], options: StartOptions = {}): Promise<RelayProcess> {
  const argv = ['relay', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args];
  const child = spawn(options.direct ? './bin/sigops' : process.execPath, options.direct ? argv : ['bin/sigops', ...argv], {
    cwd: PROJECT,
    env: { ...process.env, SIGOPS_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const parentExited = once(child, 'exit').then(([code]) => code as number | null);
  let relayPid = 0;
  // A relay child outlives a SIGKILLed parent for up to its watchdog interval and may still write
  // its state directory; tests remove that directory once `exited` resolves.
  const exited = parentExited.then(async (code) => {
    if (relayPid > 0 && relayPid !== child.pid) {
      for (let i = 0; i < 100 && alive(relayPid); i++) await sleep(50);
    }
    return code;
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    const rl = createInterface({ input: child.stderr! });
    rl.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      logs.push(entry);
      if (entry.msg === 'relay listening') resolve(entry);
    });
    void parentExited.then((code) => reject(new Error(`relay exited with ${code} before listening: ${logs.map((l) => l.msg).join(' | ')}`)));
  });
  const entry = await listening;
  relayPid = Number(entry.pid);
  const port = (v: unknown) => Number(String(v).split(':').pop());
  return {
    child,
    relayPid,
    smtpPort: port(entry.smtp),
    httpPort: port(entry.http),
    logs,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
      if (signal === 'SIGKILL' && relayPid !== child.pid && alive(relayPid)) process.kill(relayPid, 'SIGKILL');
    },
  };
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
