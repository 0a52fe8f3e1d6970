// The failover decision (pure) and the note it keeps in the rule's Comments: unhealthy for less
// than --after → only noted; for longer → disabled; healthy again for --recover-after → enabled;
// flapping; a paused tenant; a rule sigops does not manage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFailover, type DecisionInput, type RuleState } from '../../src/failover/index.ts';
import { parseFailoverNote, withFailoverNote, withoutFailoverNote, type FailoverNote } from '../../src/exchange/index.ts';

const MARKER = 'managed-by: sigops; tenant: contoso';
const T0 = new Date('2026-11-30T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const SETTINGS = { afterMs: 10 * 60_000, recoverAfterMs: 5 * 60_000 };

function rule(note?: FailoverNote, enabled = true, managed = true): RuleState {
  const comments = managed ? withFailoverNote(MARKER, note) : 'a rule of someone else';
  return { managed, enabled, comments, note: parseFailoverNote(comments) };
}
function input(o: Partial<DecisionInput>): DecisionInput {
  return { now: T0, healthy: true, reason: '', tenantEnabled: true, rule: rule(), settings: SETTINGS, ...o };
}
/** Applies the decision's steps to the rule, as Exchange would. */
function after(r: RuleState, d: ReturnType<typeof decideFailover>): RuleState {
  let { enabled, comments } = r;
  for (const s of d.steps) {
    if (s.action === 'note') comments = s.comments;
    else enabled = s.action === 'enable';
  }
  return { managed: r.managed, enabled, comments, note: parseFailoverNote(comments) };
}

describe('failover note', () => {
  it('round-trips after the marker, and the marker stays readable', () => {
    const note: FailoverNote = { state: 'disabled', since: at(10).toISOString(), unhealthySince: T0.toISOString(), reason: 'no relay healthy: http://a/healthz ECONNREFUSED; b' };
    const comments = withFailoverNote(MARKER, note);
    assert.match(comments, /^managed-by: sigops; tenant: contoso; failover: disabled; since: /);
    assert.equal(withoutFailoverNote(comments), MARKER);
    assert.deepEqual(parseFailoverNote(comments), { ...note, reason: 'no relay healthy: http://a/healthz ECONNREFUSED, b' });
    assert.equal(withFailoverNote(comments, undefined), MARKER, 'clearing the note leaves the marker');
    assert.equal(parseFailoverNote(MARKER), undefined);
    assert.equal(parseFailoverNote(`${MARKER}; failover: bogus`), undefined, 'an unreadable note is ignored');
  });
});

describe('failover decision', () => {
  it('healthy fleet, enabled rule: nothing to do', () => {
    const d = decideFailover(input({}));
    assert.equal(d.outcome, 'unchanged');
    assert.deepEqual(d.steps, []);
  });

  it('unhealthy for less than --after: only noted (when it started), no switch', () => {
    const first = decideFailover(input({ healthy: false, reason: 'no relay healthy' }));
    assert.equal(first.outcome, 'noted');
    assert.deepEqual(first.note, { state: 'unhealthy', since: T0.toISOString(), reason: 'no relay healthy' });
    assert.ok(first.steps.every((s) => s.action === 'note'));
    const r1 = after(rule(), first);
    const later = decideFailover(input({ now: at(9), healthy: false, reason: 'no relay healthy', rule: r1 }));
    assert.equal(later.outcome, 'unchanged', 'still under 10 minutes: no write at all');
    assert.deepEqual(later.steps, []);
    assert.match(later.message, /disabled at 2026-11-30T10:10:00\.000Z/);
  });

  it('unhealthy for --after or longer: the note first, then Disable-TransportRule', () => {
    const r1 = after(rule(), decideFailover(input({ healthy: false, reason: 'down' })));
    const d = decideFailover(input({ now: at(10), healthy: false, reason: 'down', rule: r1 }));
    assert.equal(d.outcome, 'disabled');
    assert.deepEqual(d.steps.map((s) => s.action), ['note', 'disable']);
    assert.deepEqual(d.note, { state: 'disabled', since: at(10).toISOString(), unhealthySince: T0.toISOString(), reason: 'down' });
    const r2 = after(r1, d);
    assert.equal(r2.enabled, false);
    // still down: held, nothing written
    const held = decideFailover(input({ now: at(30), healthy: false, reason: 'down', rule: r2 }));
    assert.equal(held.outcome, 'unchanged');
    assert.deepEqual(held.steps, []);
  });

  it('--after 0 disables at the first failed check', () => {
    const d = decideFailover(input({ healthy: false, reason: 'down', settings: { ...SETTINGS, afterMs: 0 } }));
    assert.equal(d.outcome, 'disabled');
  });

  it('a short outage clears its note without a switch', () => {
    const r1 = after(rule(), decideFailover(input({ healthy: false, reason: 'down' })));
    const d = decideFailover(input({ now: at(3), rule: r1 }));
    assert.equal(d.outcome, 'noted');
    assert.equal(after(r1, d).comments, MARKER);
  });

  it('healthy again: re-enabled only after --recover-after; flapping starts the wait again', () => {
    const held = rule({ state: 'disabled', since: at(10).toISOString(), unhealthySince: T0.toISOString(), reason: 'down' }, false);
    const back = decideFailover(input({ now: at(20), rule: held }));
    assert.equal(back.outcome, 'noted');
    assert.deepEqual(back.steps.map((s) => s.action), ['note'], 'not enabled yet');
    const r1 = after(held, back);
    assert.equal(r1.enabled, false);
    assert.equal(r1.note?.state === 'disabled' && r1.note.healthySince, at(20).toISOString());

    const early = decideFailover(input({ now: at(24), rule: r1 }));
    assert.equal(early.outcome, 'unchanged');

    // flaps: down again → the "healthy since" is dropped, the rule stays disabled
    const flap = decideFailover(input({ now: at(24), healthy: false, reason: 'down again', rule: r1 }));
    assert.equal(flap.outcome, 'noted');
    const r2 = after(r1, flap);
    assert.equal(r2.enabled, false);
    assert.equal(r2.note?.state === 'disabled' && r2.note.healthySince, undefined);

    const r3 = after(r2, decideFailover(input({ now: at(26), rule: r2 })));
    const enable = decideFailover(input({ now: at(31), rule: r3 }));
    assert.equal(enable.outcome, 'enabled');
    assert.deepEqual(enable.steps.map((s) => s.action), ['enable', 'note'], 'the rule first, then the trace');
    const r4 = after(r3, enable);
    assert.equal(r4.enabled, true);
    assert.deepEqual(r4.note, { state: 're-enabled', at: at(31).toISOString(), disabledSince: at(10).toISOString() });
    assert.equal(decideFailover(input({ now: at(40), rule: r4 })).outcome, 'unchanged', 'the trace stays until the next event');
  });

  it('a held rule enabled meanwhile (a failed switch, a hand) is disabled again while the fleet is down', () => {
    const r = rule({ state: 'disabled', since: at(10).toISOString(), unhealthySince: T0.toISOString(), reason: 'down' }, true);
    const d = decideFailover(input({ now: at(15), healthy: false, reason: 'down', rule: r }));
    assert.equal(d.outcome, 'disabled');
    assert.deepEqual(d.steps.map((s) => s.action), ['disable']);
  });

  it('a paused tenant is never touched, whatever the fleet does', () => {
    for (const healthy of [true, false]) {
      const held = rule({ state: 'disabled', since: at(10).toISOString(), unhealthySince: T0.toISOString(), reason: 'down' }, false);
      for (const r of [rule(undefined, false), held]) {
        const d = decideFailover(input({ now: at(60), healthy, reason: 'down', tenantEnabled: false, rule: r, settings: { afterMs: 0, recoverAfterMs: 0 } }));
        assert.equal(d.outcome, 'skipped');
        assert.deepEqual(d.steps, []);
      }
    }
  });

  it('a rule disabled by someone else is left alone', () => {
    const d = decideFailover(input({ healthy: true, rule: rule(undefined, false) }));
    assert.equal(d.outcome, 'skipped');
    assert.deepEqual(d.steps, []);
  });

  it('a rule sigops does not manage is refused; a missing rule is skipped', () => {
    const refused = decideFailover(input({ healthy: false, reason: 'down', rule: rule(undefined, true, false), settings: { afterMs: 0, recoverAfterMs: 0 } }));
    assert.equal(refused.outcome, 'refused');
    assert.deepEqual(refused.steps, []);
    assert.match(refused.message, /not managed by sigops/);
    const missing = decideFailover(input({ healthy: false, reason: 'down', rule: undefined }));
    assert.equal(missing.outcome, 'skipped');
  });
});
