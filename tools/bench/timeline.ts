/**
 * When each source transaction became visible, from what the end-to-end benchmark observed: the
 * buffer's events (their source commit time and position, as PostgreSQL recorded them), the reader's
 * checkpoint and the catalog's current snapshots over time. Pure functions: no clock, no database.
 */

/** The changes one source transaction made to one table, as the buffer holds them. */
export interface TableTransaction {
  readonly table: string;
  readonly commitLsn: bigint;
  /** Position of the transaction's last change to this table (the writer's position reaches it last). */
  readonly lastSeq: number;
  readonly rows: number;
  /** Source commit time, ms since the epoch (PostgreSQL's own timestamp, same clock as ours). */
  readonly commitMs: number;
}

/** A table's current snapshot as the catalog showed it at `atMs`: its `philotes.source-lsn`/`-seq`. */
export interface SnapshotSeen {
  readonly table: string;
  readonly atMs: number;
  readonly lsn: bigint;
  readonly seq: number;
}

/** The reader's checkpoint at `atMs`: every transaction ending before `confirmedLsn` is in the buffer. */
export interface CheckpointSeen {
  readonly atMs: number;
  readonly confirmedLsn: bigint;
}

export interface Attributed extends TableTransaction {
  /** First time its whole change set was in the buffer; undefined if never seen. */
  readonly bufferedMs?: number;
  /** First time a current snapshot covered it; undefined if never seen. */
  readonly visibleMs?: number;
}

const covers = (seen: SnapshotSeen, t: TableTransaction) => seen.lsn > t.commitLsn || (seen.lsn === t.commitLsn && seen.seq >= t.lastSeq);

/**
 * Gives each transaction the first observation that covers it. Positions only move forward, so one
 * pass per table over both lists (sorted here) suffices.
 */
export function attribute(transactions: readonly TableTransaction[], snapshots: readonly SnapshotSeen[], checkpoints: readonly CheckpointSeen[]): Attributed[] {
  const byPosition = [...transactions].sort((a, b) => (a.commitLsn === b.commitLsn ? a.lastSeq - b.lastSeq : a.commitLsn < b.commitLsn ? -1 : 1));
  const marks = [...checkpoints].sort((a, b) => a.atMs - b.atMs);
  const seenByTable = new Map<string, SnapshotSeen[]>();
  for (const seen of snapshots) {
    const list = seenByTable.get(seen.table) ?? [];
    list.push(seen);
    seenByTable.set(seen.table, list);
  }
  for (const list of seenByTable.values()) list.sort((a, b) => a.atMs - b.atMs);
  const cursor = new Map<string, number>();
  let mark = 0;
  return byPosition.map((t) => {
    while (mark < marks.length && marks[mark].confirmedLsn <= t.commitLsn) mark++;
    const seen = seenByTable.get(t.table) ?? [];
    let i = cursor.get(t.table) ?? 0;
    while (i < seen.length && !covers(seen[i], t)) i++;
    cursor.set(t.table, i);
    return {
      ...t,
      ...(mark < marks.length ? { bufferedMs: marks[mark].atMs } : {}),
      ...(i < seen.length ? { visibleMs: seen[i].atMs } : {}),
    };
  });
}

/** The value at fraction `p` (0..1] of the total weight, nearest rank: a value some sample really had. */
export function weightedPercentile(samples: ReadonlyArray<{ readonly value: number; readonly weight: number }>, p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((sum, s) => sum + s.weight, 0);
  let cumulative = 0;
  for (const sample of sorted) {
    cumulative += sample.weight;
    if (cumulative >= p * total) return sample.value;
  }
  return sorted[sorted.length - 1].value;
}

export interface Freshness {
  readonly rows: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Source commit → visible in Iceberg, per row (each row counts with its transaction's delay). */
export function freshness(transactions: readonly Attributed[]): Freshness {
  const samples = visibleOnly(transactions).map((t) => ({ value: t.visibleMs - t.commitMs, weight: t.rows }));
  return {
    rows: samples.reduce((sum, s) => sum + s.weight, 0),
    p50Ms: weightedPercentile(samples, 0.5),
    p99Ms: weightedPercentile(samples, 0.99),
    maxMs: samples.reduce((max, s) => Math.max(max, s.value), 0),
  };
}

export interface Rates {
  readonly rows: number;
  /** Rows over first commit → last commit: how fast the source took the workload. */
  readonly committedPerSecond: number;
  /** Rows over first commit → last transaction in the buffer. */
  readonly bufferedPerSecond: number;
  /** Rows over first commit → last transaction visible in Iceberg: the sustained end-to-end rate. */
  readonly visiblePerSecond: number;
  readonly visibleSeconds: number;
}

/** Throughput of a phase: everything it committed, over the time until all of it was through each stage. */
export function rates(transactions: readonly Attributed[]): Rates {
  const rows = transactions.reduce((sum, t) => sum + t.rows, 0);
  const first = Math.min(...transactions.map((t) => t.commitMs));
  const last = (pick: (t: Attributed) => number | undefined) => Math.max(...transactions.map((t) => pick(t) ?? Infinity));
  const per = (end: number) => rows / ((end - first) / 1000);
  const visibleSeconds = (last((t) => t.visibleMs) - first) / 1000;
  return {
    rows,
    committedPerSecond: per(last((t) => t.commitMs)),
    bufferedPerSecond: per(last((t) => t.bufferedMs)),
    visiblePerSecond: per(last((t) => t.visibleMs)),
    visibleSeconds,
  };
}

export interface SecondBin {
  /** Seconds since `fromMs`. */
  readonly second: number;
  readonly committed: number;
  readonly buffered: number;
  readonly visible: number;
  /** Freshness of the rows committed in this second, if any became visible. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** Rows committed, buffered and made visible in each second from `fromMs` to `toMs`, and the freshness of each second's commits. */
export function perSecond(transactions: readonly Attributed[], fromMs: number, toMs: number): SecondBin[] {
  const count = Math.max(1, Math.ceil((toMs - fromMs) / 1000));
  const bins = Array.from({ length: count }, () => ({ committed: 0, buffered: 0, visible: 0, delays: [] as Array<{ value: number; weight: number }> }));
  const bin = (ms: number | undefined) => (ms === undefined ? undefined : bins[Math.floor((ms - fromMs) / 1000)]);
  for (const t of transactions) {
    const committed = bin(t.commitMs);
    if (committed) {
      committed.committed += t.rows;
      if (t.visibleMs !== undefined) committed.delays.push({ value: t.visibleMs - t.commitMs, weight: t.rows });
    }
    const buffered = bin(t.bufferedMs);
    if (buffered) buffered.buffered += t.rows;
    const visible = bin(t.visibleMs);
    if (visible) visible.visible += t.rows;
  }
  return bins.map(({ delays, ...counts }, second) => ({
    second,
    ...counts,
    ...(delays.length > 0 ? { p50Ms: weightedPercentile(delays, 0.5), p99Ms: weightedPercentile(delays, 0.99) } : {}),
  }));
}

/** Mean over the `window` seconds ending at each point: commits every few seconds read as a rate. */
export function movingAverage(values: readonly number[], window: number): number[] {
  let sum = 0;
  return values.map((value, i) => {
    sum += value - (i >= window ? values[i - window] : 0);
    return sum / Math.min(i + 1, window);
  });
}

function visibleOnly(transactions: readonly Attributed[]): Array<Attributed & { visibleMs: number }> {
  return transactions.filter((t): t is Attributed & { visibleMs: number } => t.visibleMs !== undefined);
}
