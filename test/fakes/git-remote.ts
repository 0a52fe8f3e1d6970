// A config repository's remote on loopback: a bare repository served by `git daemon` (git://)
// behind a faulty network front, so the relay's `--repo` can lose its remote (refused, black
// hole) while commits are pushed to it from a working copy.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { startFaultyNetwork, type FaultyNetwork } from './faulty-network.ts';

export interface GitRemote {
  /** What the relay clones and fetches: git://127.0.0.1:<front>/remote.git */
  readonly url: string;
  readonly network: FaultyNetwork;
  /** The working copy commits are made in (its origin is the bare repository, by path). */
  readonly work: SimpleGit;
  readonly workDir: string;
  /** Commits everything in the working copy and pushes it. */
  publish(message: string): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `workDir` is a git repository with a `main` branch (see configRepo in test/reliability/harness.ts). */
export async function startGitRemote(dir: string, workDir: string): Promise<GitRemote> {
  const bare = join(dir, 'remote.git');
  await simpleGit().clone(workDir, bare, ['--bare']);
  const work = simpleGit(workDir);
  await work.addRemote('origin', bare);
  const port = await freePort();
  const daemon: ChildProcess = spawn('git', ['daemon', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${dir}`, '--export-all', dir], {
    stdio: 'ignore',
  });
  const exited = once(daemon, 'exit');
  // the daemon is up once it accepts a connection
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200 || daemon.exitCode !== null) throw new Error('git daemon did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  const network = await startFaultyNetwork({ backend: () => port });
  return {
    url: `git://127.0.0.1:${network.port}/remote.git`,
    network,
    work,
    workDir,
    async publish(message: string) {
      await work.add('.');
      await work.commit(message);
      await work.push('origin', 'main');
    },
    async close() {
      await network.close();
      if (daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        await exited;
      }
    },
  };
}
