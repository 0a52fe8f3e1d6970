// Public surface of planning and applying Exchange Online changes (used by the CLI and the
// GitHub Action). A plan is data: build it (planTenants), render it (renderPlan), then apply it
// (applyPlan), which refuses a plan whose checksum no longer matches config + live state.
export type * from './types.ts';
export { planTenants, hasChanges, hasErrors, diffTenant, DEFAULT_SAFETY_LIMIT, type PlanOptions } from './plan.ts';
export { applyPlan, DEFAULT_SETTLE, type ApplyOptions, type SettleOptions } from './apply.ts';
export { renderPlan, renderApplyReport, planSummary, formatValue, DEFAULT_MARKDOWN_LIMIT, type RenderOptions } from './render.ts';
export { planChecksum, canonicalJson } from './checksum.ts';
export { findRemovedTenants } from './history.ts';
export { blockingFindings } from './findings.ts';
export { PlanError, UnknownTenantError, StalePlanError, SafetyLimitError, PLAN_ERROR_CODE } from './errors.ts';
export { exchangeOptionsFromEnv, ExchangeConnector, type ExchangeOptions } from '../exchange/index.ts';
