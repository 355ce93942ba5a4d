import { ALL_STATES, isTerminal, PipelineState as S } from './pipeline-state';
import { IllegalTransitionError, StateMachine, Transition } from './state-machine';

/** The lifecycle as the architecture states it, written out independently of TRANSITIONS. */
const EXPECTED_ALLOWED = new Set([
  'starting→running', 'starting→paused', 'starting→stopping', 'starting→failed',
  'running→paused', 'running→starting', 'running→stopping', 'running→failed',
  'paused→running', 'paused→starting', 'paused→stopping', 'paused→failed',
  'stopping→stopped', 'stopping→failed',
]);

/** A machine driven from Starting into `state` along allowed edges. */
function machineIn(state: S): StateMachine {
  const machine = new StateMachine();
  const path: Record<S, S[]> = {
    [S.Starting]: [],
    [S.Running]: [S.Running],
    [S.Paused]: [S.Paused],
    [S.Stopping]: [S.Stopping],
    [S.Stopped]: [S.Stopping, S.Stopped],
    [S.Failed]: [S.Failed],
  };
  for (const step of path[state]) machine.transition(step);
  expect(machine.state).toBe(state);
  return machine;
}

const pairs = ALL_STATES.flatMap((from) => ALL_STATES.map((to) => [from, to] as [S, S]));

describe('StateMachine', () => {
  it('starts in Starting', () => {
    expect(new StateMachine().state).toBe(S.Starting);
  });

  it.each(pairs.filter(([from, to]) => EXPECTED_ALLOWED.has(`${from}→${to}`)))('allows %s → %s', (from, to) => {
    const machine = machineIn(from);
    const transition = machine.transition(to, 'because');
    expect(machine.state).toBe(to);
    expect(machine.reason).toBe('because');
    expect(transition).toMatchObject({ from, to, reason: 'because' });
  });

  it.each(pairs.filter(([from, to]) => !EXPECTED_ALLOWED.has(`${from}→${to}`)))('forbids %s → %s', (from, to) => {
    const machine = machineIn(from);
    expect(() => machine.transition(to)).toThrow(IllegalTransitionError);
    expect(() => machine.transition(to)).toThrow(`illegal pipeline state transition ${from} → ${to}`);
    expect(machine.state).toBe(from);
  });

  it('lets any live state fail, and nothing leave Stopped or Failed', () => {
    for (const state of ALL_STATES) {
      expect(machineIn(state).can(S.Failed)).toBe(!isTerminal(state));
    }
    expect(ALL_STATES.filter(isTerminal)).toEqual([S.Stopped, S.Failed]);
  });

  it('tells listeners each transition in order, with its time', () => {
    const clock = [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:01Z'), new Date('2026-01-01T00:00:02Z')];
    const machine = new StateMachine(undefined, () => clock.shift() as Date);
    const seen: Transition[] = [];
    machine.onTransition((t) => seen.push(t));
    machine.transition(S.Running);
    machine.transition(S.Paused, 'backpressure');
    expect(seen).toEqual([
      { from: S.Starting, to: S.Running, reason: undefined, at: new Date('2026-01-01T00:00:01Z') },
      { from: S.Running, to: S.Paused, reason: 'backpressure', at: new Date('2026-01-01T00:00:02Z') },
    ]);
    expect(machine.since).toEqual(new Date('2026-01-01T00:00:02Z'));
  });

  it('reports a failing listener without undoing the transition or skipping other listeners', () => {
    const errors: unknown[] = [];
    const machine = new StateMachine((error) => errors.push(error));
    const other = jest.fn();
    machine.onTransition(() => {
      throw new Error('disk full');
    });
    machine.onTransition(other);
    machine.transition(S.Running);
    expect(machine.state).toBe(S.Running);
    expect(other).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([new Error('disk full')]);
  });

  it('ensure() is idempotent and refreshes the reason without a transition', () => {
    const machine = machineIn(S.Running);
    const listener = jest.fn();
    machine.onTransition(listener);
    expect(machine.ensure(S.Paused, 'operator')).toBe(true);
    expect(machine.ensure(S.Paused, 'backpressure')).toBe(false);
    expect(machine.state).toBe(S.Paused);
    expect(machine.reason).toBe('backpressure');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(() => machineIn(S.Stopped).ensure(S.Running)).toThrow(IllegalTransitionError);
  });

  it('stops telling a listener after it unsubscribes', () => {
    const machine = new StateMachine();
    const listener = jest.fn();
    const unsubscribe = machine.onTransition(listener);
    machine.transition(S.Running);
    unsubscribe();
    machine.transition(S.Stopping);
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
