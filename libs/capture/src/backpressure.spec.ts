import { limitCrossings, nextBackpressure, overLimit } from './backpressure';

const settings = { backpressureHighBytes: 1_000, backpressureLowBytes: 400, backpressureStoppedTableMaxBytes: 5_000 };
const table = (tableId: number, backlogBytes: number, stoppedBy: 'paused' | 'failed' = 'paused') => ({ tableId, schema: 'public', table: `t${tableId}`, stoppedBy, backlogBytes });

describe('backpressure', () => {
  it('holds above the high watermark and releases below the low one, keeping its reason between', () => {
    expect(nextBackpressure(undefined, 1_000, settings)).toBeUndefined();
    const held = nextBackpressure(undefined, 1_001, settings);
    expect(held).toBe('backpressure: 1001B unapplied, above the high watermark 1000B (PHILOTES_BACKPRESSURE_HIGH_BYTES)');
    expect(nextBackpressure(held, 5_000, settings)).toBe(held);
    expect(nextBackpressure(held, 400, settings)).toBe(held);
    expect(nextBackpressure(held, 399, settings)).toBeUndefined();
  });

  it('names sizes as an operator reads them', () => {
    expect(nextBackpressure(undefined, 300 * 1024 ** 2, { ...settings, backpressureHighBytes: 256 * 1024 ** 2 })).toBe(
      'backpressure: 300MB unapplied, above the high watermark 256MB (PHILOTES_BACKPRESSURE_HIGH_BYTES)',
    );
  });

  it('reports stopped tables past their own limit, and each crossing once', () => {
    const backlog = { flowingBytes: 0, stopped: [table(1, 5_000), table(2, 5_001, 'failed'), table(3, 9_999)] };
    const over = overLimit(backlog, settings);
    expect(over.map((t) => t.tableId)).toEqual([2, 3]);
    expect(limitCrossings(new Set(), over)).toEqual({ crossed: over, back: [] });
    expect(limitCrossings(new Set([2, 3]), over)).toEqual({ crossed: [], back: [] });
    expect(limitCrossings(new Set([1, 2]), over)).toEqual({ crossed: [over[1]], back: [1] });
  });
});
