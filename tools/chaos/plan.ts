import { seededRandom } from '@philotes/faults';

export { seededRandom };

/** The faults a chaos run injects. */
export const FAULT_KINDS = [
  'kill wal-reader',
  'kill iceberg-writer',
  'kill dlq-admin',
  'restart source',
  'restart buffer',
  'terminate replication',
  'terminate writer connections',
  'pause a table under load',
  'fill the buffer disk',
  'cut a writer off the network',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  readonly atMs: number;
  readonly kind: FaultKind;
}

export interface ChaosPlanOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** How many times each fault kind happens. */
  readonly counts: Readonly<Record<FaultKind, number>>;
  /** No two faults closer than this (time to see a recovery). */
  readonly minGapMs: number;
}

/**
 * The faults of a run, shuffled by the seed and spread over the duration: each at a random point
 * of its own slot, so they never bunch up closer than `minGapMs` and the order is reproducible.
 */
export function planFaults(options: ChaosPlanOptions): PlannedFault[] {
  const random = seededRandom(options.seed);
  const kinds: FaultKind[] = FAULT_KINDS.flatMap((kind) => new Array<FaultKind>(options.counts[kind]).fill(kind));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const slot = options.durationMs / Math.max(1, kinds.length);
  if (slot < options.minGapMs) throw new Error(`${kinds.length} faults in ${options.durationMs} ms leave less than ${options.minGapMs} ms between them`);
  const jitter = slot - options.minGapMs;
  return kinds.map((kind, i) => ({ atMs: Math.round(i * slot + random() * jitter), kind }));
}

/** Median and worst of some durations, for the summary. */
export function spread(values: readonly number[]): { median: number; max: number } {
  if (values.length === 0) return { median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return { median: sorted.length % 2 === 1 ? sorted[middle] : Math.round((sorted[middle - 1] + sorted[middle]) / 2), max: sorted[sorted.length - 1] };
}
