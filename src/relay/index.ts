// The relay's public surface: run it (runRelay), or assemble its parts in tests.
export { Relay, DEFAULT_LIMITS, type RelayLimits, type RelayOptions } from './server.ts';
export { RelayError, deliveryError, type RelayErrorReason } from './errors.ts';
export { AllowList, EXCHANGE_ONLINE_RANGES } from './allowlist.ts';
export { SmtpDelivery, OutboxDelivery, parseHostPort, type Delivery, type DeliveryRequest, type DeliveryResult } from './delivery.ts';
export { PolicyStore, type PolicyLoader, type PolicyLoadResult, type PolicySnapshot } from './policy-store.ts';
export { RelayMetrics } from './metrics.ts';
export { UsageRecorder, readUsage, renderUsage, type UsageReport } from './usage.ts';
export { generateSelfSigned, loadTlsCredentials, type TlsCredentials } from './tls.ts';
export { authorise, TENANT_HEADER } from './identity.ts';
export { receivedHeader } from './received.ts';
export { runRelay, type RunRelayOptions, type RunningRelay } from './run.ts';
export { createRelayLogger } from './log.ts';
