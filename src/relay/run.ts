// Assembles a running relay from its options: config (local dir or git clone), TLS, delivery,
// SMTP listener, HTTP endpoint, hot reload. The CLI command is a thin shell over this.
import type { Server } from 'node:http';
import { hostname as osHostname } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { resolve } from 'node:path';
import type { HostPort } from '../model/index.ts';
import type { Logger } from '../log/index.ts';
import { AllowList } from './allowlist.ts';
import { OutboxDelivery, SmtpDelivery, type Delivery } from './delivery.ts';
import { GitSync } from './git-sync.ts';
import { startHttp } from './http.ts';
import { RelayMetrics } from './metrics.ts';
import { PolicyStore, type PolicyLoader } from './policy-store.ts';
import { Relay, type RelayLimits } from './server.ts';
import { generateSelfSigned, loadTlsCredentials } from './tls.ts';
import { UsageRecorder } from './usage.ts';
import { WorkerPartSigner } from './signing.ts';
import { clientTrust } from './client-cert.ts';
import { SentItemsMetrics, SentItemsQueue, graphReplacer, type GraphReplacerOptions, type Replacer, type SentItemsBounds } from '../sent-items/index.ts';

export interface RunRelayOptions {
  /** Local config repository (a git clone or plain folder). */
  readonly config: string;
  /** Clone this repository into `config` and keep pulling it. */
  readonly repo?: { readonly url: string; readonly branch: string; readonly pullIntervalMs: number };
  readonly listen: HostPort;
  readonly http?: HostPort;
  readonly hostname?: string;
  readonly deliver?: HostPort;
  readonly outbox?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly clientCertDir?: string;
  readonly deliverCa?: Buffer;
  readonly deliverInsecureTls?: boolean;
  readonly deliverMaxConnections?: number;
  readonly deliverTimeoutMs?: number;
  readonly allow?: readonly string[];
  /** `--require-client-cert NAME [--client-ca FILE]`: only clients with a verified certificate for NAME may send. */
  readonly requireClientCert?: { readonly name: string; readonly extraCa?: Buffer };
  readonly stateDir: string;
  readonly limits?: Partial<RelayLimits>;
  readonly watchDebounceMs?: number;
  readonly log: Logger;
  /** For tests: a loader other than src/config + src/policy. */
  readonly loader?: PolicyLoader;
  /**
   * The Sent Items update (docs/sent-items.md): Graph endpoints and credentials overrides, the
   * queue's bounds, and for tests a replacer and a clock of their own. The queue lives in
   * <stateDir>/sent-items and serves only tenants with `sentItems`.
   */
  readonly sentItems?: {
    readonly graph?: GraphReplacerOptions;
    readonly bounds?: Partial<SentItemsBounds>;
    readonly replacer?: Replacer;
    readonly now?: () => number;
    /** false: jobs are queued but not worked on (tests drive `runDue` themselves). Default true. */
    readonly autoStart?: boolean;
  };
}

export interface RunningRelay {
  readonly relay: Relay;
  readonly store: PolicyStore;
  readonly metrics: RelayMetrics;
  readonly sentItems: SentItemsQueue;
  readonly smtp: { host: string; port: number };
  readonly http?: Server;
  stop(graceMs?: number): Promise<{ drained: boolean }>;
}

/**
 * The process as V8 runs it, for /healthz: the Node flags in effect (bin/sigops adds the relay's
 * own, docs/relay.md "Performance") and the young generation's current size, which those flags bound.
 */
export function runtimeStatus(): { pid: number; node: string; nodeFlags: string[]; youngGenerationMb: number } {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    pid: process.pid,
    node: process.version,
    nodeFlags: process.execArgv.filter((a) => a.startsWith('--') && !a.startsWith('--import') && !a.startsWith('--require')),
    youngGenerationMb: young ? Math.round((young.space_size / 1048576) * 10) / 10 : 0,
  };
}

export async function runRelay(o: RunRelayOptions): Promise<RunningRelay> {
  const log = o.log;
  const metrics = new RelayMetrics({ defaultMetrics: true });
  const root = resolve(o.config);
  const store = new PolicyStore(root, log, metrics, o.loader);

  let git: GitSync | undefined;
  if (o.repo) {
    git = new GitSync({ url: o.repo.url, branch: o.repo.branch, dir: root, intervalMs: o.repo.pullIntervalMs }, log, () => void store.reload('git-pull'));
    await git.init();
  }
  if (!(await store.reload('startup'))) {
    throw new Error(`config in ${root} is invalid: ${(store.lastReload?.errors ?? []).slice(0, 5).join('; ')}`);
  }
  await store.watch(o.watchDebounceMs ?? 300);
  git?.start();

  const hostname = o.hostname ?? osHostname();
  let tls;
  if (o.tlsCert && o.tlsKey) {
    tls = await loadTlsCredentials(o.tlsCert, o.tlsKey);
  } else {
    log.warn({ hostname }, 'no --tls-cert/--tls-key: using a generated self-signed certificate (development only; Exchange Online will not accept it)');
    tls = await generateSelfSigned(hostname);
  }

  let delivery: Delivery;
  if (o.outbox) {
    delivery = new OutboxDelivery(resolve(o.outbox));
  } else {
    delivery = new SmtpDelivery({
      override: o.deliver,
      name: hostname,
      clientCertDir: o.clientCertDir,
      ca: o.deliverCa,
      insecureTls: o.deliverInsecureTls,
      maxConnections: o.deliverMaxConnections,
      connectionTimeoutMs: o.deliverTimeoutMs,
      greetingTimeoutMs: o.deliverTimeoutMs,
      socketTimeoutMs: o.deliverTimeoutMs,
    });
  }

  const allow = o.allow && o.allow.length > 0 ? new AllowList(o.allow) : undefined;
  const usage = new UsageRecorder(resolve(o.stateDir));
  // large text parts are signed on a worker thread, off the event loop (src/mime/offload.ts)
  const signer = new WorkerPartSigner({
    onProblem: (message, err) => log.warn({ err: err?.message }, message),
  });
  const clientCertificate = o.requireClientCert ? { name: o.requireClientCert.name, ca: clientTrust(o.requireClientCert.extraCa) } : undefined;
  const sentItems = new SentItemsQueue({
    dir: resolve(o.stateDir, 'sent-items'),
    replacer: o.sentItems?.replacer ?? graphReplacer({ logger: log, ...o.sentItems?.graph }),
    metrics: (state) => new SentItemsMetrics(metrics.registry, state),
    log,
    ...(o.sentItems?.bounds ? { bounds: o.sentItems.bounds } : {}),
    ...(o.sentItems?.now ? { now: o.sentItems.now } : {}),
  });
  try {
    await sentItems.open();
    if (o.sentItems?.autoStart !== false) sentItems.start();
  } catch (err) {
    // Sent Items are a nicety: a state directory it cannot use never keeps mail from flowing
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'sent items queue unavailable; Sent Items will not be updated');
  }
  const relay = new Relay({ listen: o.listen, hostname, tls, store, delivery, log, metrics, allow, usage, signer, limits: o.limits, clientCertificate, sentItems });
  const smtp = await relay.start();
  const http = o.http ? await startHttp(o.http, metrics, store, relay, () => ({ git: git ? { head: git.head } : undefined, runtime: runtimeStatus() })) : undefined;
  log.info(
    {
      smtp: `${smtp.host}:${smtp.port}`,
      http: http ? `${o.http!.host}:${(http.address() as { port: number }).port}` : undefined,
      delivery: o.outbox ? `outbox ${resolve(o.outbox)}` : o.deliver ? `smtp://${o.deliver.host}:${o.deliver.port}` : 'per-tenant deliverTo',
      allowList: allow ? allow.entries.length : 'off',
      clientCertificate: clientCertificate ? clientCertificate.name : 'not required',
      // the relay's own process (bin/sigops may have started it as a child): for RSS and CPU readings
      pid: process.pid,
    },
    'relay listening',
  );

  return {
    relay,
    store,
    metrics,
    sentItems,
    smtp,
    http,
    async stop(graceMs = 30_000) {
      git?.stop();
      const result = await relay.shutdown(graceMs);
      await store.close();
      await delivery.close();
      await signer.close();
      await usage.flush();
      await sentItems.stop();
      if (http) {
        http.closeAllConnections();
        await new Promise<void>((r) => http.close(() => r()));
      }
      return result;
    },
  };
}
