// Holds the compiled Policy the relay serves and replaces it on config changes: load, validate
// and compile happen off the hot path; the reference swap is atomic; a config that does not
// load is refused and the last good one keeps serving.
import { EventEmitter } from 'node:events';
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log/index.ts';
import type { Policy } from '../policy/types.ts';
import { defaultPolicyLoader } from './config-loader.ts';
import type { RelayMetrics } from './metrics.ts';

export type PolicyLoadResult =
  | { readonly ok: true; readonly policy: Policy; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

export type PolicyLoader = (root: string) => Promise<PolicyLoadResult>;

/** One immutable config generation; a message holds on to the one it started with. */
export interface PolicySnapshot {
  readonly policy: Policy;
  readonly generation: number;
  readonly loadedAt: Date;
}

export interface ReloadStatus {
  readonly ok: boolean;
  readonly at: Date;
  readonly trigger: string;
  readonly errors?: readonly string[];
}

const WATCHED = new Set(['tenants', 'templates', 'directory']);

export class PolicyStore extends EventEmitter {
  private snapshot: PolicySnapshot | undefined;
  private status: ReloadStatus | undefined;
  private running: Promise<boolean> | undefined;
  private pending: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly root: string,
    private readonly log: Logger,
    private readonly metrics?: RelayMetrics,
    private readonly loader: PolicyLoader = defaultPolicyLoader,
  ) {
    super();
  }

  /** The config serving now (undefined before the first successful load). */
  get current(): PolicySnapshot | undefined {
    return this.snapshot;
  }

  get lastReload(): ReloadStatus | undefined {
    return this.status;
  }

  /**
   * Loads the config; resolves true when a new generation is serving. Reloads are serialised:
   * a change during a load schedules one more load after it.
   */
  reload(trigger = 'manual'): Promise<boolean> {
    if (this.running) {
      this.pending = trigger;
      return this.running.then(() => this.running ?? true);
    }
    this.running = this.loadOnce(trigger).finally(() => {
      this.running = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next) void this.reload(next);
    });
    return this.running;
  }

  private async loadOnce(trigger: string): Promise<boolean> {
    const at = new Date();
    let result: PolicyLoadResult;
    try {
      result = await this.loader(this.root);
    } catch (err) {
      result = { ok: false, errors: [err instanceof Error ? err.message : String(err)] };
    }
    this.metrics?.lastReloadTimestamp.set(at.getTime() / 1000);
    if (!result.ok) {
      this.status = { ok: false, at, trigger, errors: result.errors };
      this.metrics?.reloads.inc({ result: 'failure' });
      this.metrics?.lastReloadSuccess.set(0);
      this.log.error(
        { trigger, errors: result.errors.slice(0, 50), generation: this.snapshot?.generation },
        this.snapshot ? 'config refused; the last good config keeps serving' : 'config refused; no config to serve',
      );
      this.emit('refused', this.status);
      return false;
    }
    const generation = (this.snapshot?.generation ?? 0) + 1;
    this.snapshot = Object.freeze({ policy: result.policy, generation, loadedAt: at });
    this.status = { ok: true, at, trigger };
    this.metrics?.reloads.inc({ result: 'success' });
    this.metrics?.lastReloadSuccess.set(1);
    this.metrics?.generation.set(generation);
    for (const w of result.warnings.slice(0, 50)) this.log.warn({ warning: w }, 'config warning');
    this.log.info({ trigger, generation, tenants: result.policy.tenants.length }, 'config loaded');
    this.emit('loaded', this.snapshot);
    return true;
  }

  /** Watches tenants/, templates/ and directory/ and reloads after `debounceMs` of quiet. */
  async watch(debounceMs = 300): Promise<void> {
    if (this.watcher) return;
    const ignored = (path: string): boolean => {
      const rel = relative(this.root, path);
      if (rel === '') return false;
      const top = rel.split(sep)[0] ?? '';
      return !WATCHED.has(top);
    };
    this.watcher = watch(this.root, { ignoreInitial: true, ignored, persistent: true });
    this.watcher.on('all', (_event, path) => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(`change:${relative(this.root, path)}`), debounceMs);
    });
    this.watcher.on('error', (err) => this.log.error({ err: String(err) }, 'config watcher error'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
    await this.running;
  }
}
