import { beginStep, dueAt, newSchedule, SAFETY_POLL_MS } from './table-schedule';

const settings = { flushIntervalMs: 5_000, targetFileSize: 64 * 1024 * 1024, eagerBytes: 4_000_000 };

describe('table schedule', () => {
  it('steps a table at once when its lease was just taken', () => {
    expect(dueAt(newSchedule(1_000), settings)).toBe(0);
  });

  it('writes announced events a flush interval after the last step', () => {
    const schedule = newSchedule(0);
    beginStep(schedule, 1_000);
    schedule.running = false;
    schedule.pendingEvents = 10;
    expect(dueAt(schedule, settings)).toBe(6_000);
  });

  it('steps at once when a commit worth of bytes waits', () => {
    const schedule = newSchedule(0);
    beginStep(schedule, 1_000);
    schedule.running = false;
    schedule.pendingEvents = 10;
    schedule.pendingBytes = 2 * settings.targetFileSize;
    expect(dueAt(schedule, settings)).toBe(0);
  });

  it('steps at once when the table, or its source, nears the reader’s backpressure limit', () => {
    const schedule = newSchedule(0);
    beginStep(schedule, 1_000);
    schedule.running = false;
    schedule.pendingEvents = 10;
    schedule.pendingBytes = 3_999_999;
    expect(dueAt(schedule, settings)).toBe(6_000);
    schedule.pendingBytes = 4_000_000;
    expect(dueAt(schedule, settings)).toBe(0);
    // Spread over several tables of the source: each steps, as long as it has something waiting.
    schedule.pendingBytes = 500;
    expect(dueAt(schedule, settings, 4_200_000)).toBe(0);
    schedule.pendingEvents = 0;
    schedule.pendingBytes = 0;
    expect(dueAt(schedule, settings, 4_200_000)).toBe(1_000 + SAFETY_POLL_MS);
    // Backpressure off: only the flush interval and the commit size count.
    schedule.pendingEvents = 10;
    schedule.pendingBytes = 30_000_000;
    expect(dueAt(schedule, { ...settings, eagerBytes: 0 })).toBe(6_000);
  });

  it('looks at a quiet table again after the safety interval', () => {
    const schedule = newSchedule(0);
    beginStep(schedule, 1_000);
    schedule.running = false;
    expect(dueAt(schedule, settings)).toBe(1_000 + SAFETY_POLL_MS);
  });

  it('waits out a backoff, and never schedules a running table', () => {
    const schedule = newSchedule(0);
    schedule.retryAt = 9_999;
    expect(dueAt(schedule, settings)).toBe(9_999);
    schedule.running = true;
    expect(dueAt(schedule, settings)).toBe(Infinity);
  });

  it('starts a step with what was announced so far', () => {
    const schedule = newSchedule(0);
    schedule.pendingEvents = 5;
    schedule.pendingUnknown = true;
    beginStep(schedule, 42);
    expect(schedule).toMatchObject({ running: true, forced: false, pendingEvents: 0, pendingBytes: 0, pendingUnknown: false, lastStepAt: 42 });
  });
});
