// Probing the relay fleet's /healthz from outside it. The fleet counts as healthy when at least
// one URL answers 200 with a loaded config: Exchange's outbound connector spreads mail over its
// smart hosts, so one relay that takes mail is enough to keep mail flowing signed.
export interface HealthSample {
  readonly url: string;
  readonly ok: boolean;
  /** `200, config generation 3` or what failed (`ECONNREFUSED`, `503`, `no config loaded`). */
  readonly detail: string;
}

export interface FleetHealth {
  readonly healthy: boolean;
  /** ISO time of the probe. */
  readonly checkedAt: string;
  readonly samples: readonly HealthSample[];
  /** One line saying why the fleet is unhealthy ('' when healthy). */
  readonly reason: string;
}

export interface ProbeOptions {
  /** Per URL (default 5 s): a relay that does not answer in time counts as down. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

export async function probeFleet(urls: readonly string[], options: ProbeOptions = {}): Promise<FleetHealth> {
  const doFetch = options.fetch ?? fetch;
  const timeout = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const samples = await Promise.all(urls.map((url) => probeOne(doFetch, url, timeout)));
  return fleetHealth(samples, (options.now ?? (() => new Date()))());
}

/** The fleet's health from its samples (pure). */
export function fleetHealth(samples: readonly HealthSample[], at: Date): FleetHealth {
  const healthy = samples.some((s) => s.ok);
  const reason = healthy ? '' : `no relay healthy: ${samples.map((s) => `${s.url} ${s.detail}`).join(', ') || 'no health URL'}`;
  return { healthy, checkedAt: at.toISOString(), samples, reason };
}

async function probeOne(doFetch: typeof fetch, url: string, timeoutMs: number): Promise<HealthSample> {
  try {
    const res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    const text = await res.text();
    if (res.status !== 200) return { url, ok: false, detail: `HTTP ${res.status}` };
    let generation = 0;
    try {
      const body = JSON.parse(text) as { config?: { generation?: unknown } };
      generation = Number(body.config?.generation ?? 0);
    } catch {
      return { url, ok: false, detail: 'answer is not the relay health JSON' };
    }
    // A relay that has not loaded a config refuses mail: it does not count.
    if (!(generation > 0)) return { url, ok: false, detail: 'no config loaded' };
    return { url, ok: true, detail: `HTTP 200, config generation ${generation}` };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const detail = e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.message ?? String(err));
    return { url, ok: false, detail };
  }
}
