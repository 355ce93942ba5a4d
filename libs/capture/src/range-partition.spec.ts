import { RangeAlignment, timeTransformOf } from './range-partition';

const alignment = (aligned: Partial<RangeAlignment['aligned']>, extra: Partial<RangeAlignment> = {}): RangeAlignment => ({
  column: 'paid_at',
  isDate: false,
  bounds: 4,
  aligned: { year: false, month: false, day: false, hour: false, ...aligned },
  ...extra,
});

describe('the time transform a range-partitioned source table maps to', () => {
  it('is the coarsest unit every bound is aligned to', () => {
    expect(timeTransformOf(alignment({ month: true, day: true, hour: true }))).toEqual({ column: 'paid_at', unit: 'month' });
    expect(timeTransformOf(alignment({ year: true, month: true, day: true, hour: true }))).toEqual({ column: 'paid_at', unit: 'year' });
    expect(timeTransformOf(alignment({ day: true, hour: true }))).toEqual({ column: 'paid_at', unit: 'day' });
    expect(timeTransformOf(alignment({ hour: true }))).toEqual({ column: 'paid_at', unit: 'hour' });
  });

  it('is none when no bound is aligned, when no partition has bounds, or for a source without range partitions', () => {
    expect(timeTransformOf(alignment({}))).toBeUndefined();
    expect(timeTransformOf(alignment({ month: true, day: true, hour: true }, { bounds: 0 }))).toBeUndefined();
    expect(timeTransformOf(undefined)).toBeUndefined();
  });

  it('never partitions a date by hour', () => {
    expect(timeTransformOf(alignment({ hour: true }, { isDate: true }))).toBeUndefined();
    expect(timeTransformOf(alignment({ day: true, hour: true }, { isDate: true }))).toEqual({ column: 'paid_at', unit: 'day' });
  });
});
