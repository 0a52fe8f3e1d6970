// Typed errors of `sigops failover`: each says what to do next.
import { SigopsError } from '../errors/index.ts';

/** Any error failover raises on purpose. */
export abstract class FailoverError extends SigopsError {}

/** The rule named like ours lacks the sigops marker: failover never switches a rule it does not manage. */
export class RuleNotManagedError extends FailoverError {
  override readonly name = 'RuleNotManagedError';
  constructor(rule: string) {
    super(`transport rule "${rule}" exists but is not managed by sigops (no "managed-by: sigops" in its Comments): failover does not switch it`, {
      code: 'failover-rule-not-managed',
      advice: 'Run `sigops plan` to see the conflict: rename the rule, or add the sigops marker to its Comments so sigops manages it.',
    });
  }
}

/** The command was given nothing to check, or a setting it cannot use. */
export class FailoverSettingsError extends FailoverError {
  override readonly name = 'FailoverSettingsError';
  constructor(message: string, advice: string) {
    super(message, { code: 'failover-settings', advice });
  }
}
