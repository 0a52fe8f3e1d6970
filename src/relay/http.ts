// Operations endpoint: /metrics (Prometheus), /healthz (liveness + config status), /readyz.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { HostPort } from '../model/index.ts';
import type { RelayMetrics } from './metrics.ts';
import type { PolicyStore } from './policy-store.ts';

export interface HealthSource {
  readonly ready: boolean;
  readonly messagesInFlight: number;
}

export function healthBody(store: PolicyStore, relay: HealthSource, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const snap = store.current;
  const last = store.lastReload;
  return {
    status: 'ok',
    ready: relay.ready,
    inFlight: relay.messagesInFlight,
    config: {
      root: store.root,
      generation: snap?.generation ?? 0,
      loadedAt: snap?.loadedAt.toISOString(),
      tenants: snap?.policy.tenants.length ?? 0,
      lastReload: last && { ok: last.ok, at: last.at.toISOString(), trigger: last.trigger, errors: last.errors },
    },
    ...extra,
  };
}

export async function startHttp(
  listen: HostPort,
  metrics: RelayMetrics,
  store: PolicyStore,
  relay: HealthSource,
  extra: () => Record<string, unknown> = () => ({}),
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2) + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: unknown) => json(500, { error: String(err) }),
      );
      return;
    }
    if (path === '/healthz') return json(200, healthBody(store, relay, extra()));
    if (path === '/readyz') {
      const body = healthBody(store, relay, extra());
      return json(relay.ready ? 200 : 503, { ...body, status: relay.ready ? 'ready' : 'not ready' });
    }
    json(404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
  });
  server.listen(listen.port, listen.host);
  await once(server, 'listening');
  return server;
}
