/** A time unit an Iceberg time transform partitions by. */
export type TimeUnit = 'year' | 'month' | 'day' | 'hour';

/**
 * How a partitioned source table's own partitions are bounded: its one range-partition column
 * (date, timestamp or timestamptz), how many bounds its partitions have, and to which units (in
 * UTC) every bound is aligned.
 */
export interface RangeAlignment {
  readonly column: string;
  readonly isDate: boolean;
  readonly bounds: number;
  readonly aligned: Readonly<Record<TimeUnit, boolean>>;
}

const COARSEST_FIRST: readonly TimeUnit[] = ['year', 'month', 'day', 'hour'];

/**
 * The time transform that partitions the Iceberg table exactly as finely as the source, or
 * coarser than none of its partitions: the coarsest unit every bound is aligned to (monthly
 * partitions → month; quarterly → month too, each Iceberg month lies inside one source partition).
 * None when the table has no bounded partition yet, or bounds off every unit (say a partition
 * boundary at 00:30, or midnight in a time zone other than UTC). Hour is no transform of a date.
 */
export function timeTransformOf(alignment: RangeAlignment | undefined): { readonly column: string; readonly unit: TimeUnit } | undefined {
  if (!alignment || alignment.bounds === 0) return undefined;
  const unit = COARSEST_FIRST.find((u) => alignment.aligned[u] && !(u === 'hour' && alignment.isDate));
  return unit ? { column: alignment.column, unit } : undefined;
}
