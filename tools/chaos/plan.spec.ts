import { FAULT_KINDS, FaultKind, planFaults, spread } from './plan';

const counts = (n: number) => Object.fromEntries(FAULT_KINDS.map((k) => [k, n])) as Record<FaultKind, number>;

describe('chaos plan', () => {
  it('is the same for the same seed and different for another', () => {
    const options = { seed: 7, durationMs: 70_000, counts: counts(2), minGapMs: 1_000 };
    expect(planFaults(options)).toEqual(planFaults(options));
    expect(planFaults({ ...options, seed: 8 }).map((f) => f.kind)).not.toEqual(planFaults(options).map((f) => f.kind));
  });

  it('holds every fault the counts ask for, in order, at least the gap apart, within the duration', () => {
    const plan = planFaults({ seed: 1, durationMs: 140_000, counts: { ...counts(1), 'kill wal-reader': 20 }, minGapMs: 2_000 });
    expect(plan.filter((f) => f.kind === 'kill wal-reader')).toHaveLength(20);
    expect(plan).toHaveLength(20 + FAULT_KINDS.length - 1);
    for (let i = 1; i < plan.length; i++) expect(plan[i].atMs - plan[i - 1].atMs).toBeGreaterThanOrEqual(2_000 - 1);
    expect(plan[plan.length - 1].atMs).toBeLessThan(140_000);
  });

  it('refuses a plan too dense to observe recoveries', () => {
    expect(() => planFaults({ seed: 1, durationMs: 5_000, counts: counts(2), minGapMs: 1_000 })).toThrow(/less than 1000 ms/);
  });

  it('summarises durations by median and worst', () => {
    expect(spread([5, 1, 3])).toEqual({ median: 3, max: 5 });
    expect(spread([1, 2, 3, 4])).toEqual({ median: 3, max: 4 });
    expect(spread([])).toEqual({ median: 0, max: 0 });
  });
});
