// Public surface of `sigops failover`: when the relay fleet is unreachable for long enough,
// disable each tenant's routing rule so mail flows unsigned instead of queueing, and re-enable
// it once the fleet is healthy again (docs/failover.md). A failover plan is data: planFailover,
// renderFailoverPlan, then applyFailover.
export { probeFleet, fleetHealth, DEFAULT_PROBE_TIMEOUT_MS, type FleetHealth, type HealthSample, type ProbeOptions } from './health.ts';
export {
  decideFailover,
  DEFAULT_AFTER_MINUTES,
  DEFAULT_RECOVER_AFTER_MINUTES,
  type DecisionInput,
  type FailoverDecision,
  type FailoverOutcome,
  type FailoverSettings,
  type FailoverStep,
  type RuleState,
} from './decide.ts';
export {
  planFailover,
  applyFailover,
  renderFailoverPlan,
  renderFailoverReport,
  failoverFailed,
  type FailoverPlan,
  type FailoverPlanOptions,
  type FailoverReport,
  type ApplyFailoverOptions,
  type TenantFailover,
  type TenantFailoverResult,
} from './failover.ts';
export { FailoverError, FailoverSettingsError, RuleNotManagedError } from './errors.ts';
