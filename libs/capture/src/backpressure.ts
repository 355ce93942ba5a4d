import type { SourceBacklog, StoppedTable } from '@philotes/buffer';
import { formatSize } from '@philotes/config';

export interface BackpressureSettings {
  readonly backpressureHighBytes: number;
  readonly backpressureLowBytes: number;
  readonly backpressureStoppedTableMaxBytes: number;
}

/**
 * The backpressure hold after a measurement of what writers may apply now (paused and failed
 * tables left out: they must not stop the others). Its reason while held, undefined once released:
 *
 * | held before | flowing bytes          | after                     |
 * | ----------- | ---------------------- | ------------------------- |
 * | no          | above the high mark    | held (reason names both)  |
 * | no          | at or below it         | not held                  |
 * | yes         | below the low mark     | released                  |
 * | yes         | at or above it         | held, same reason         |
 */
export function nextBackpressure(current: string | undefined, flowingBytes: number, settings: BackpressureSettings): string | undefined {
  if (current === undefined) {
    return flowingBytes > settings.backpressureHighBytes
      ? `backpressure: ${formatSize(flowingBytes)} unapplied, above the high watermark ${formatSize(settings.backpressureHighBytes)} (PHILOTES_BACKPRESSURE_HIGH_BYTES)`
      : undefined;
  }
  return flowingBytes < settings.backpressureLowBytes ? undefined : current;
}

/** The paused or failed tables whose backlog passed their limit; the reader keeps capturing them. */
export function overLimit(backlog: SourceBacklog, settings: BackpressureSettings): StoppedTable[] {
  return backlog.stopped.filter((table) => table.backlogBytes > settings.backpressureStoppedTableMaxBytes);
}

/** Tables that crossed the limit since the last measurement, and those back under it (to log once each way). */
export function limitCrossings(before: ReadonlySet<number>, now: readonly StoppedTable[]): { readonly crossed: StoppedTable[]; readonly back: number[] } {
  const ids = new Set(now.map((table) => table.tableId));
  return { crossed: now.filter((table) => !before.has(table.tableId)), back: [...before].filter((id) => !ids.has(id)) };
}
