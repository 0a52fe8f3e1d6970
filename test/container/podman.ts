// A podman of its own for the image test: storage, run and temporary files all under one
// directory (removed afterwards, so the test leaves nothing behind), and a Node 20 base image
// made here instead of pulled: Debian bookworm (minbase, git, ca-certificates) from mmdebstrap,
// with this very node binary and its npm laid out as the official node images have them
// (/usr/local/bin/node, /usr/local/lib/node_modules/npm). The host's node is the one the rest of
// the suite just ran on, so it is a Node 20 that works here whichever Debian mirror has which
// nodejs; the official images are the same Debian with Node's own build.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; resolves with its exit code and output whatever the code (no throw). */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 1 && !stderr ? err.message : '') });
    });
  });
}

const onPath = (cmd: string): boolean => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Why the image test cannot run here, or undefined when it can. */
export function missingTools(): string | undefined {
  const missing = ['podman', 'mmdebstrap'].filter((t) => !onPath(t));
  return missing.length > 0 ? `${missing.join(' and ')} not installed` : undefined;
}

export class Podman {
  readonly env: NodeJS.ProcessEnv;
  private readonly global: string[];

  constructor(readonly dir: string) {
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    // cgroupfs: no systemd needed (CI machines, containers); runc: the runtime that works on the
    // machines this was tried on; events to a file under `dir` instead of journald.
    writeFileSync(
      join(dir, 'containers.conf'),
      ['[engine]', 'cgroup_manager = "cgroupfs"', 'runtime = "runc"', 'events_logger = "file"', `tmp_dir = "${join(dir, 'libpod')}"`,
        '[containers]', 'default_ulimits = []', ''].join('\n'),
    );
    this.env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), TMPDIR: tmp };
    this.global = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run')];
  }

  /** `podman ARGS` in this sandbox. */
  exec(args: string[], timeoutMs?: number): Promise<RunResult> {
    return run('podman', [...this.global, ...args], { env: this.env, timeoutMs });
  }

  /** `podman ARGS`, throwing with its output when it fails; resolves with stdout. */
  async ok(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.exec(args, timeoutMs);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited with ${r.code}:\n${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Removes every container, volume and image of the sandbox, then the directory. */
  async destroy(): Promise<void> {
    await this.exec(['rm', '--all', '--force', '--time', '0']);
    await this.exec(['volume', 'rm', '--all', '--force']);
    await this.exec(['rmi', '--all', '--force']);
    // podman (as root) bind-mounts its overlay storage onto itself and never undoes that
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === this.dir || m.startsWith(`${this.dir}/`)).sort().reverse();
    for (const m of mounts) await run('umount', [m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** How the base image is made; a change here (or another node) makes a new one. */
const BASE_RECIPE = { suite: 'bookworm', variant: 'minbase', include: ['git', 'ca-certificates'], layout: 'usr-local-v1' };

/** The node binary and its npm, as installed on this machine. */
function hostNode(): { node: string; npm: string } {
  const node = realpathSync(process.execPath);
  const npm = join(dirname(dirname(node)), 'lib', 'node_modules', 'npm');
  if (!existsSync(join(npm, 'bin', 'npm-cli.js'))) throw new Error(`no npm beside ${node} (looked in ${npm})`);
  return { node, npm };
}

export interface BaseImage {
  readonly name: string;
  /** Whether the Debian tree was made now (false: taken from the cache). */
  readonly made: boolean;
  readonly seconds: { readonly mmdebstrap: number; readonly import: number };
}

/**
 * Makes the base image and imports it into `podman` as localhost/sigops-test-base:<key>. The
 * root file system (about 350 MB) is kept in ~/.cache/sigops between runs, keyed by the recipe
 * and the node binary: a developer's second run skips mmdebstrap (about 45 s); a CI machine
 * starts without it. SIGOPS_CONTAINER_CACHE=0 turns the cache off.
 */
export async function baseImage(podman: Podman): Promise<BaseImage> {
  const { node, npm } = hostNode();
  const st = statSync(node);
  const key = createHash('sha256').update(JSON.stringify({ BASE_RECIPE, node, size: st.size, mtime: st.mtimeMs, version: process.version })).digest('hex').slice(0, 12);
  const useCache = process.env.SIGOPS_CONTAINER_CACHE !== '0';
  const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sigops');
  const tarball = useCache ? join(cacheDir, `container-base-${key}.tar`) : join(podman.dir, 'base.tar');
  let made = false;
  let mmSeconds = 0;
  if (!existsSync(tarball)) {
    made = true;
    const partial = `${tarball}.partial-${process.pid}`;
    mkdirSync(dirname(tarball), { recursive: true });
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const hook = [
      'mkdir -p "$1/usr/local/lib/node_modules" "$1/usr/local/bin"',
      `cp ${q(node)} "$1/usr/local/bin/node"`,
      `cp -a ${q(npm)} "$1/usr/local/lib/node_modules/npm"`,
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
      'ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
    ].join(' && ');
    const started = Date.now();
    const r = await run('mmdebstrap', ['--quiet', '--format=tar', `--variant=${BASE_RECIPE.variant}`, `--include=${BASE_RECIPE.include.join(',')}`, `--customize-hook=${hook}`, BASE_RECIPE.suite, partial], { env: podman.env });
    mmSeconds = (Date.now() - started) / 1000;
    if (r.code !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`mmdebstrap failed (${r.code}):\n${r.stderr}`);
    }
    renameSync(partial, tarball);
    // one cached tree at a time: drop those of other recipes or other node binaries
    if (useCache) {
      for (const f of readdirSync(cacheDir)) if (/^container-base-.*\.tar/.test(f) && f !== `container-base-${key}.tar`) rmSync(join(cacheDir, f), { force: true });
    }
  }
  const name = `localhost/sigops-test-base:${key}`;
  const started = Date.now();
  await podman.ok(['import', '--quiet', '--change', 'CMD ["node"]', tarball, name]);
  return { name, made, seconds: { mmdebstrap: mmSeconds, import: (Date.now() - started) / 1000 } };
}
