// Keeps a local clone of the config repository in step with its remote branch (read-only:
// fetch + hard reset, so a force-pushed branch cannot wedge the relay).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit } from 'simple-git';
import type { Logger } from '../log/index.ts';

/**
 * `https://user:token@host/…` → `https://***@host/…`: a deploy token in `--repo` (the Kubernetes
 * manifests put one there from a Secret) must not reach the logs through an error message.
 */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]+@/gi, '$1***@');
}

const messageOf = (err: unknown): string => redactCredentials(err instanceof Error ? err.message : String(err));

export interface GitSyncOptions {
  readonly url: string;
  readonly branch: string;
  readonly dir: string;
  readonly intervalMs: number;
}

export class GitSync {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  head = '';

  constructor(
    private readonly options: GitSyncOptions,
    private readonly log: Logger,
    /** Called after a pull moved HEAD (the watcher notices too; this makes it certain). */
    private readonly onChange: () => void,
  ) {}

  /** Clones when the work dir is empty, else fetches and resets to the remote branch. */
  async init(): Promise<void> {
    const { url, branch, dir } = this.options;
    if (!existsSync(join(dir, '.git'))) {
      await mkdir(dirname(dir), { recursive: true });
      try {
        await simpleGit().clone(url, dir, ['--branch', branch, '--single-branch', '--depth', '50']);
      } catch (err) {
        throw new Error(messageOf(err));
      }
    } else {
      // the clone outlives a restart (a volume): follow the URL as given now, so a rotated token
      // or a moved repository takes effect instead of the one stored at the first clone
      await simpleGit(dir)
        .remote(['set-url', 'origin', url])
        .catch((err: unknown) => this.log.warn({ err: messageOf(err) }, 'could not update the clone\'s remote URL; pulling from the stored one'));
      await this.pull();
    }
    this.head = (await simpleGit(dir).revparse(['HEAD'])).trim();
    this.log.info({ branch, head: this.head }, 'config clone ready');
  }

  async pull(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      // a fetch nobody answers (a black-holed remote) is killed, or it would block every later pull
      const git = simpleGit({ baseDir: this.options.dir, timeout: { block: Math.max(this.options.intervalMs, 10_000) } });
      await git.fetch('origin', this.options.branch);
      await git.reset(['--hard', `origin/${this.options.branch}`]);
      const head = (await git.revparse(['HEAD'])).trim();
      if (head === this.head) return false;
      this.log.info({ from: this.head, to: head }, 'config repository updated');
      this.head = head;
      this.onChange();
      return true;
    } catch (err) {
      this.log.error({ err: messageOf(err) }, 'config pull failed; keeping the current clone');
      return false;
    } finally {
      this.busy = false;
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.pull(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
