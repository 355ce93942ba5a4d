import { fillsCommit } from './commit-size';

/** What the writer knows about when an owned table next needs a step. */
export interface TableSchedule {
  /** Step at once: the lease was just taken, or the last step left work behind. */
  forced: boolean;
  /** Events (and their payload bytes) announced since the last step began. */
  pendingEvents: number;
  pendingBytes: number;
  /** A wake-up named the table's source without sizes: it may have anything. */
  pendingUnknown: boolean;
  lastStepAt: number;
  /** No step before this (backoff after a failure). */
  retryAt: number;
  running: boolean;
}

export interface ScheduleSettings {
  readonly flushIntervalMs: number;
  readonly targetFileSize: number;
  /**
   * Payload bytes waiting (in this table, or in all of its source's tables this writer holds) at
   * which a table steps at once; 0 for never. Half the reader's backpressure high watermark: the
   * reader pauses there, and must not wait a flush interval per batch for the writer.
   */
  readonly eagerBytes: number;
}

/**
 * A table no one announced anything for is still looked at this often, in case a wake-up was missed
 * (the listening connection was down): a cheap, empty read.
 */
export const SAFETY_POLL_MS = 30_000;

export function newSchedule(now: number): TableSchedule {
  return { forced: true, pendingEvents: 0, pendingBytes: 0, pendingUnknown: false, lastStepAt: now, retryAt: 0, running: false };
}

/**
 * When the table's next step is due. A table steps at once when it has a commit's worth waiting
 * (few large commits instead of many tiny files), or when its source's waiting bytes approach the
 * reader's backpressure limit; otherwise what waits is written a flush interval after the last
 * step, which bounds how long an event waits.
 */
export function dueAt(schedule: TableSchedule, settings: ScheduleSettings, sourcePendingBytes = schedule.pendingBytes): number {
  if (schedule.running) return Infinity;
  const earliest = schedule.retryAt;
  if (schedule.forced || fillsCommit(schedule.pendingEvents, schedule.pendingBytes, settings.targetFileSize)) return earliest;
  const eager = settings.eagerBytes > 0 && schedule.pendingEvents > 0 && Math.max(schedule.pendingBytes, sourcePendingBytes) >= settings.eagerBytes;
  if (eager) return earliest;
  const waiting = schedule.pendingEvents > 0 || schedule.pendingUnknown;
  return Math.max(earliest, schedule.lastStepAt + (waiting ? settings.flushIntervalMs : SAFETY_POLL_MS));
}

/** A step begins: what was announced so far is what it will read. */
export function beginStep(schedule: TableSchedule, now: number): void {
  schedule.running = true;
  schedule.forced = false;
  schedule.pendingEvents = 0;
  schedule.pendingBytes = 0;
  schedule.pendingUnknown = false;
  schedule.lastStepAt = now;
}
