// The failover decision for one tenant, pure: the fleet's health now, the live rule (its state
// and the failover note in its Comments) and the tenant's config → the steps to take. The note is
// the only memory between runs, so a scheduled job anywhere reaches the same decision.
import { TRANSPORT_RULE_NAME, withFailoverNote, type FailoverNote } from '../exchange/index.ts';
import { RuleNotManagedError } from './errors.ts';

export interface FailoverSettings {
  /** How long the fleet must stay unhealthy before the rule is disabled (ms). */
  readonly afterMs: number;
  /** How long it must stay healthy again before the rule is re-enabled (ms); against flapping. */
  readonly recoverAfterMs: number;
}

export const DEFAULT_AFTER_MINUTES = 10;
export const DEFAULT_RECOVER_AFTER_MINUTES = 5;

/** The live rule as failover needs it. */
export interface RuleState {
  /** Carries `managed-by: sigops` in its Comments. */
  readonly managed: boolean;
  readonly enabled: boolean;
  readonly comments: string;
  /** The note read from the Comments, if any. */
  readonly note: FailoverNote | undefined;
}

/** One write, in order: the note first when disabling, the rule first when enabling. */
export type FailoverStep =
  | { readonly action: 'note'; readonly comments: string }
  | { readonly action: 'disable' }
  | { readonly action: 'enable' };

/**
 * `disabled`/`enabled`: a switch of the rule; `noted`: only the note changes (first failure,
 * fleet back, flapping); `unchanged`: nothing to write; `skipped`: failover does not act on this
 * tenant (paused, no rule yet, a rule disabled by someone else); `refused`: the rule is not ours.
 */
export type FailoverOutcome = 'disabled' | 'enabled' | 'noted' | 'unchanged' | 'skipped' | 'refused';

export interface FailoverDecision {
  readonly outcome: FailoverOutcome;
  /** One line for the output and the log. */
  readonly message: string;
  readonly steps: readonly FailoverStep[];
  /** The note on the rule after the steps. */
  readonly note?: FailoverNote;
}

export interface DecisionInput {
  readonly now: Date;
  readonly healthy: boolean;
  /** Why the fleet is unhealthy ('' when healthy). */
  readonly reason: string;
  /** The tenant's `enabled:` in the config: a paused tenant is never touched. */
  readonly tenantEnabled: boolean;
  readonly rule: RuleState | undefined;
  readonly settings: FailoverSettings;
}

const minutes = (ms: number): string => `${Math.round((ms / 60_000) * 10) / 10} min`;

export function decideFailover(input: DecisionInput): FailoverDecision {
  const { now, healthy, reason, rule, settings } = input;
  const iso = now.toISOString();
  if (!rule) return { outcome: 'skipped', message: `no transport rule "${TRANSPORT_RULE_NAME}" (not applied yet): nothing to fail over`, steps: [] };
  if (!rule.managed) {
    const err = new RuleNotManagedError(TRANSPORT_RULE_NAME);
    return { outcome: 'refused', message: err.message, steps: [] };
  }
  const note = rule.note;
  const keep = note ? { note } : {};
  if (!input.tenantEnabled) {
    return { outcome: 'skipped', message: 'tenant paused in the config (enabled: false): failover leaves its rule alone', steps: [], ...keep };
  }
  const write = (next: FailoverNote): FailoverStep => ({ action: 'note', comments: withFailoverNote(rule.comments, next) });
  const since = (t: string): number => now.getTime() - Date.parse(t);

  if (note?.state === 'disabled') {
    if (!healthy) {
      // Still down. Back from "healthy again" to plain "disabled" when it flaps; disable again
      // should the rule have been enabled meanwhile (a failed switch, a hand).
      const next: FailoverNote = { state: 'disabled', since: note.since, unhealthySince: note.unhealthySince, reason: note.reason };
      const steps: FailoverStep[] = note.healthySince ? [write(next)] : [];
      if (rule.enabled) {
        return { outcome: 'disabled', message: `relay fleet unhealthy (${reason}): rule disabled again (failover holds it since ${note.since})`, steps: [...steps, { action: 'disable' }], note: next };
      }
      return {
        outcome: steps.length ? 'noted' : 'unchanged',
        message: `relay fleet still unhealthy (${reason}): rule held disabled since ${note.since}`,
        steps,
        note: next,
      };
    }
    if (settings.recoverAfterMs <= 0) return enable(rule, note.since, iso);
    if (!note.healthySince) {
      const next: FailoverNote = { ...note, healthySince: iso };
      return {
        outcome: 'noted',
        message: `relay fleet healthy again: rule re-enabled once it stays healthy for ${minutes(settings.recoverAfterMs)}`,
        steps: [write(next)],
        note: next,
      };
    }
    if (since(note.healthySince) >= settings.recoverAfterMs) return enable(rule, note.since, iso);
    const at = new Date(Date.parse(note.healthySince) + settings.recoverAfterMs).toISOString();
    return { outcome: 'unchanged', message: `relay fleet healthy since ${note.healthySince}: rule re-enabled at ${at} if it stays healthy`, steps: [], note };
  }

  // No hold: the rule is the config's. One disabled by someone else is left alone.
  if (!rule.enabled) {
    return { outcome: 'skipped', message: 'rule disabled, not by failover: left alone (`sigops plan` shows whether the config wants it enabled)', steps: [], ...keep };
  }
  if (healthy) {
    if (note?.state === 'unhealthy') {
      return { outcome: 'noted', message: `relay fleet healthy again (unhealthy since ${note.since}, less than ${minutes(settings.afterMs)}): no switch`, steps: [{ action: 'note', comments: withFailoverNote(rule.comments, undefined) }] };
    }
    return { outcome: 'unchanged', message: 'relay fleet healthy: rule enabled', steps: [], ...keep };
  }
  const unhealthySince = note?.state === 'unhealthy' ? note.since : iso;
  if (since(unhealthySince) >= settings.afterMs) {
    const next: FailoverNote = { state: 'disabled', since: iso, unhealthySince, reason };
    return {
      outcome: 'disabled',
      message: `relay fleet unhealthy since ${unhealthySince} (${reason}): rule disabled, mail flows unsigned`,
      steps: [write(next), { action: 'disable' }],
      note: next,
    };
  }
  const at = new Date(Date.parse(unhealthySince) + settings.afterMs).toISOString();
  if (note?.state === 'unhealthy') {
    return { outcome: 'unchanged', message: `relay fleet unhealthy since ${unhealthySince} (${reason}): rule disabled at ${at} if it stays so`, steps: [], note };
  }
  const next: FailoverNote = { state: 'unhealthy', since: iso, reason };
  return { outcome: 'noted', message: `relay fleet unhealthy (${reason}): rule disabled at ${at} if it stays so`, steps: [write(next)], note: next };
}

/** Re-enables the rule, then leaves a trace of the switch in the note. */
function enable(rule: RuleState, disabledSince: string, iso: string): FailoverDecision {
  const next: FailoverNote = { state: 're-enabled', at: iso, disabledSince };
  return {
    outcome: 'enabled',
    message: `relay fleet healthy: rule re-enabled (failover held it disabled since ${disabledSince})`,
    steps: [...(rule.enabled ? [] : [{ action: 'enable' } as const]), { action: 'note', comments: withFailoverNote(rule.comments, next) }],
    note: next,
  };
}
