import { ROUND_CHANGES, roundSteps } from './workload';

// Pure: the round plan is checked by replaying the id ranges it touches, without a database.

describe('roundSteps', () => {
  it('makes exactly ROUND_CHANGES changes in six transactions', () => {
    for (const r of [0, 1, 39, 40, 41, 500]) {
      const steps = roundSteps(r);
      expect(steps).toHaveLength(6);
      expect(steps.reduce((sum, s) => sum + s.changes, 0)).toBe(ROUND_CHANGES);
    }
  });

  it('only updates and deletes orders that exist and were never deleted', () => {
    const orders = new Set<number>();
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    for (let r = 0; r < 200; r++) {
      const [, placed, updated, deleted] = roundSteps(r);
      for (const id of range(placed.params[0], placed.params[1])) orders.add(id);
      for (const id of range(updated.params[0], updated.params[1])) expect(orders.has(id)).toBe(true);
      for (const id of range(deleted.params[0], deleted.params[1])) {
        expect(orders.delete(id)).toBe(true);
      }
    }
  });
});
