// Prometheus metrics of one relay instance (its own registry, so tests can run several).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Outcome = 'signed' | 'passed' | 'rejected' | 'deferred';

export class RelayMetrics {
  readonly registry = new Registry();
  readonly messages = new Counter({
    name: 'sigops_relay_messages_total',
    help: 'Messages by outcome (signed, passed, rejected, deferred), reason and tenant slug',
    labelNames: ['outcome', 'reason', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly signedWithoutDirectory = new Counter({
    name: 'sigops_relay_signed_without_directory_total',
    help: 'Signed messages whose sender is not in the tenant directory (or the tenant has none yet): rendered from the From header name and address only',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'sigops_relay_received_bytes_total',
    help: 'Message bytes received from upstream (DATA)',
    registers: [this.registry],
  });
  readonly deliverySeconds = new Histogram({
    name: 'sigops_relay_delivery_seconds',
    help: 'From end of DATA upstream to the next hop accepting the message',
    labelNames: ['tenant'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly transactionSeconds = new Histogram({
    name: 'sigops_relay_transaction_seconds',
    help: 'From DATA to the final reply upstream',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'sigops_relay_connections',
    help: 'Open upstream SMTP connections',
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'sigops_relay_messages_in_flight',
    help: 'Messages between DATA and the final reply',
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'sigops_config_reloads_total',
    help: 'Config reload attempts by result (success, failure)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly generation = new Gauge({
    name: 'sigops_config_generation',
    help: 'Generation of the config serving traffic (increments on each successful reload)',
    registers: [this.registry],
  });
  readonly lastReloadSuccess = new Gauge({
    name: 'sigops_config_last_reload_success',
    help: '1 if the last reload attempt succeeded, 0 if it was refused',
    registers: [this.registry],
  });
  readonly lastReloadTimestamp = new Gauge({
    name: 'sigops_config_last_reload_timestamp_seconds',
    help: 'Unix time of the last reload attempt',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'sigops_' });
  }

  /** One message more with this outcome, reason and tenant. */
  count(outcome: Outcome, reason: string, tenant: string): void {
    this.messages.inc({ outcome, reason, tenant });
  }

  /** Time from the end of DATA to the next hop's acceptance, for a tenant. */
  deliveryObserve(tenant: string, seconds: number): void {
    this.deliverySeconds.observe({ tenant }, seconds);
  }
}
