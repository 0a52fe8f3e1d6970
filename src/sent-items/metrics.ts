// Prometheus metrics of the Sent Items update, registered in the relay's registry (one /metrics).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a job ended without replacing the Sent Items copy (the `reason` label of dropped). */
export type DropReason =
  | 'duplicate' // another copy of the same message (Exchange split it) already has a job
  | 'queue-full' // the queue's size bound: the oldest jobs go first
  | 'expired' // still not done when its time was up (Graph down, throttled for long)
  | 'original-not-found' // the sent item never showed up in Sent Items
  | 'copy-missing' // its signed copy was gone from the state directory after a restart
  | 'forbidden' // the app may not open the mailbox (outside the management scope)
  | 'mailbox-not-found'
  | 'unsupported-attachment' // an attached item or a cloud link, which the copy could not carry
  | 'too-large' // message over the copy bound, or attachments over what one Graph request carries
  | 'no-body' // no text part in the signed copy
  | 'graph-refused' // any other refusal of Graph (4xx)
  | 'disk-error' // the copy could not be written
  | 'disk-stalled'
  | 'message-failed';

export type RetryReason = 'original-not-visible' | 'graph-unavailable' | 'authentication' | 'internal';

export class SentItemsMetrics {
  readonly queued: Counter<'tenant'>;
  readonly done: Counter<'tenant' | 'result'>;
  readonly retried: Counter<'tenant' | 'reason'>;
  readonly dropped: Counter<'tenant' | 'reason'>;
  readonly age: Histogram<'outcome'>;
  readonly pending: Gauge;
  readonly bytes: Gauge;
  readonly oldest: Gauge;

  constructor(registry: Registry, state: () => { pending: number; bytes: number; oldestMs: number }) {
    const registers = [registry];
    this.queued = new Counter({ name: 'sigops_sent_items_jobs_queued_total', help: 'Sent Items jobs queued after a signed message was delivered', labelNames: ['tenant'] as const, registers });
    this.done = new Counter({
      name: 'sigops_sent_items_jobs_done_total',
      help: 'Sent Items jobs finished: replaced (the signed copy took the original\'s place) or already-replaced (a retry found the work done)',
      labelNames: ['tenant', 'result'] as const,
      registers,
    });
    this.retried = new Counter({ name: 'sigops_sent_items_jobs_retried_total', help: 'Sent Items job attempts that will be tried again, by reason', labelNames: ['tenant', 'reason'] as const, registers });
    this.dropped = new Counter({ name: 'sigops_sent_items_jobs_dropped_total', help: 'Sent Items jobs given up (the unsigned original stays), by reason', labelNames: ['tenant', 'reason'] as const, registers });
    this.age = new Histogram({
      name: 'sigops_sent_items_job_age_seconds',
      help: 'From queueing to the end of a job (done or dropped)',
      labelNames: ['outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.pending = new Gauge({ name: 'sigops_sent_items_jobs_pending', help: 'Sent Items jobs waiting or running', registers, collect() { this.set(state().pending); } });
    this.bytes = new Gauge({ name: 'sigops_sent_items_copy_bytes', help: 'Bytes of signed copies kept in the state directory', registers, collect() { this.set(state().bytes); } });
    this.oldest = new Gauge({ name: 'sigops_sent_items_oldest_job_age_seconds', help: 'Age of the oldest pending Sent Items job (0 when none)', registers, collect() { this.set(state().oldestMs / 1000); } });
  }
}
