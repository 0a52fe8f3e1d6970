// From the policy's answer to the engine's: what a tenant's policy decides about a message,
// turned into the SigningChoice that signMessage acts on. The relay and `sigops sign` both go
// through here, so a paused tenant and a policy's reason to pass come out the same in both.
import type { SigningDecision, SigningRequest, TenantPolicy } from '../policy/types.ts';
import type { SigningChoice } from './types.ts';

const PAUSED: SigningDecision = Object.freeze({ kind: 'skip', reason: 'tenant-paused' });

/** The tenant's decision for a message; a paused tenant signs nothing, and its rules are not consulted. */
export function decisionFor(tenant: TenantPolicy, request: SigningRequest): SigningDecision {
  return tenant.tenant.enabled ? tenant.decide(request) : PAUSED;
}

/** Sign with the decision's blocks, placement and rule; or pass, with its reason (and detail). */
export function choiceFor(decision: SigningDecision): SigningChoice {
  return decision.kind === 'sign'
    ? { kind: 'sign', blocks: decision.blocks, placement: decision.placement, rule: decision.rule, ...(decision.plainText === 'html' ? { plainText: 'html' as const } : {}) }
    : { kind: 'pass', reason: decision.detail ? `${decision.reason}: ${decision.detail}` : decision.reason };
}
