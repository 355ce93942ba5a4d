import { OperatorPause } from '@philotes/buffer';
import { OperatorPauseWatch } from './operator-pause-watch';

/**
 * Real: the watch. Stubbed: the row (an in-memory value, or a read the test answers by hand) and
 * the clock (jest's fake timers).
 */
describe('OperatorPauseWatch', () => {
  const log = { warn: jest.fn(), info: jest.fn() };
  let watch: OperatorPauseWatch | undefined;

  beforeEach(() => {
    jest.useFakeTimers();
    log.warn.mockReset();
    log.info.mockReset();
  });

  afterEach(() => {
    watch?.stop();
    jest.useRealTimers();
  });

  /** A row the test sets; every read answers at once with its value. */
  const rowWatch = () => {
    let row: OperatorPause | undefined;
    const reads = { count: 0 };
    watch = new OperatorPauseWatch({ read: async () => (reads.count++, row), intervalMs: 500, log });
    return { watch, reads, set: (pause: OperatorPause | undefined) => (row = pause) };
  };

  it('loads the pause, then reports each change found by polling, and only changes', async () => {
    const { watch, set } = rowWatch();
    set({ reason: 'maintenance' });
    expect(await watch.load()).toEqual({ reason: 'maintenance' });
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));

    await jest.advanceTimersByTimeAsync(1_500);
    expect(seen).toEqual([]);
    set(undefined);
    await jest.advanceTimersByTimeAsync(500);
    expect(seen).toEqual([undefined]);
    set({});
    await jest.advanceTimersByTimeAsync(500);
    set({ reason: 'again' });
    await jest.advanceTimersByTimeAsync(500);
    expect(seen).toEqual([undefined, {}, { reason: 'again' }]);
    expect(watch.current).toEqual({ reason: 'again' });
  });

  it('reads at once on checkNow, without waiting for the poll', async () => {
    const { watch, reads, set } = rowWatch();
    await watch.load();
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));
    set({ reason: 'now' });
    watch.checkNow();
    await watch.settled();
    expect(seen).toEqual([{ reason: 'now' }]);
    expect(reads.count).toBe(2);
  });

  it('never overlaps reads: a check during a read reads once more afterwards, so the newest value wins', async () => {
    const answers: Array<(pause: OperatorPause | undefined) => void> = [];
    watch = new OperatorPauseWatch({ read: () => new Promise((resolve) => answers.push(resolve)), intervalMs: 60_000, log });
    const loading = watch.load();
    answers.shift()!(undefined);
    await loading;
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));

    watch.checkNow();
    watch.checkNow();
    watch.checkNow();
    expect(answers).toHaveLength(1);
    answers.shift()!({ reason: 'old' });
    await jest.advanceTimersByTimeAsync(0);
    expect(answers).toHaveLength(1);
    answers.shift()!({ reason: 'new' });
    await watch.settled();
    expect(seen).toEqual([{ reason: 'old' }, { reason: 'new' }]);
  });

  it('checks again after start when a notification came while loading', async () => {
    const { watch, reads, set } = rowWatch();
    const loading = watch.load();
    watch.checkNow();
    set({ reason: 'late' });
    await loading;
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));
    await watch.settled();
    expect(reads.count).toBe(2);
    expect(seen).toEqual([{ reason: 'late' }]);
  });

  it('keeps the last known pause while reads fail, warning once', async () => {
    let failing = false;
    let row: OperatorPause | undefined = { reason: 'held' };
    watch = new OperatorPauseWatch({
      read: async () => {
        if (failing) throw new Error('connection refused');
        return row;
      },
      intervalMs: 500,
      log,
    });
    await watch.load();
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));
    failing = true;
    row = undefined;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(seen).toEqual([]);
    expect(watch.current).toEqual({ reason: 'held' });
    expect(log.warn).toHaveBeenCalledTimes(1);
    failing = false;
    await jest.advanceTimersByTimeAsync(500);
    expect(seen).toEqual([undefined]);
    expect(log.info).toHaveBeenCalledTimes(1);
  });

  it('reports nothing once stopped, not even from a read in progress', async () => {
    const answers: Array<(pause: OperatorPause | undefined) => void> = [];
    watch = new OperatorPauseWatch({ read: () => new Promise((resolve) => answers.push(resolve)), intervalMs: 500, log });
    const loading = watch.load();
    answers.shift()!(undefined);
    await loading;
    const seen: Array<OperatorPause | undefined> = [];
    watch.start((pause) => seen.push(pause));
    await jest.advanceTimersByTimeAsync(500);
    expect(answers).toHaveLength(1);
    watch.stop();
    answers.shift()!({ reason: 'too late' });
    await watch.settled();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(answers).toHaveLength(0);
    expect(seen).toEqual([]);
  });
});
