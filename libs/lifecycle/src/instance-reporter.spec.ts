import { InstanceReporter, ReporterLog } from './instance-reporter';
import { InstanceIdentity, InstanceSnapshot, InstanceStateStore } from './instance-store';
import { PipelineState as S } from './pipeline-state';
import { StateMachine, Transition } from './state-machine';

/** An in-memory store that can be told to fail, standing in for the buffer database being down. */
class FlakyStore implements InstanceStateStore {
  down = false;
  readonly snapshots: InstanceSnapshot[] = [];
  readonly transitions: Transition[] = [];
  async record(_identity: InstanceIdentity, snapshot: InstanceSnapshot, transitions: readonly Transition[]): Promise<void> {
    if (this.down) throw new Error('connection refused');
    this.snapshots.push(snapshot);
    this.transitions.push(...transitions);
  }
}

const log: ReporterLog = { warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
const identity: InstanceIdentity = { instanceId: 'i-1', app: 'wal-reader', startedAt: new Date() };

describe('InstanceReporter', () => {
  // The log's mocks are shared by every test: each counts only its own calls.
  beforeEach(() => jest.clearAllMocks());

  it('records every transition in order and ends on the latest state', async () => {
    const machine = new StateMachine();
    const store = new FlakyStore();
    const reporter = new InstanceReporter(machine, store, identity, log, () => ({ slot: 'philotes_cdc' }));
    reporter.start(60_000);
    machine.transition(S.Running);
    machine.transition(S.Paused, 'operator');
    await reporter.stop();
    expect(store.transitions.map((t) => t.to)).toEqual([S.Running, S.Paused]);
    expect(store.snapshots.at(-1)).toMatchObject({ state: S.Paused, reason: 'operator', details: { slot: 'philotes_cdc' } });
  });

  it('keeps transitions while the store is down and writes them when it returns', async () => {
    const machine = new StateMachine();
    const store = new FlakyStore();
    const reporter = new InstanceReporter(machine, store, identity, log);
    store.down = true;
    reporter.start(60_000);
    machine.transition(S.Running);
    machine.transition(S.Starting, 'reconnecting');
    await reporter.publish();
    expect(store.transitions).toEqual([]);
    expect(log.warn).toHaveBeenCalledTimes(1);

    store.down = false;
    machine.transition(S.Running);
    await reporter.stop();
    expect(store.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['starting→running', 'running→starting', 'starting→running']);
    expect(store.snapshots.at(-1)?.state).toBe(S.Running);
  });
});
