import { ClientBase } from 'pg';
import { DecodedEvent, Position, StoredEvent, TableSchemaVersion, UnversionedEvent } from './event-forms';
import { DeadLetter, OpenDeadLetter, ReplayOutcome, StoredDeadLetter } from './postgres/dead-letter-store';

/** A table's copy as a writer asks after it (`cdc_backfill`): absent when it was never copied. */
export interface CopyState {
  readonly status: string;
  /** The reader finished the copy (all its rows are in the buffer). */
  readonly finished: boolean;
}

/**
 * The unit of work an Iceberg catalog's swap joins (@philotes/iceberg `CommitUnit`, the same shape:
 * the buffer does not depend on Iceberg). `db` is the commit's transaction, where the SQL catalog
 * runs its compare-and-swap; `enlist` is there for a catalog whose state is elsewhere.
 */
export interface BufferCommitUnit {
  readonly db: Pick<ClientBase, 'query'>;
  /** For a catalog whose state is elsewhere (in memory, in tests): its change, applied when the commit stands, dropped when it does not. */
  readonly enlist?: (change: { commit(): void; rollback(): void }) => void;
}

/**
 * The commit of one table writer's step, inside one buffer transaction: what the Iceberg swap,
 * the move of the table's position and the dead-letter moves share (invariant I4). Valid only
 * while the `work` it was handed runs.
 */
export interface TableCommit {
  /** What the catalog's swap joins, so the new snapshot and the position commit together. */
  readonly unit: BufferCommitUnit;
  /** Whether the copy folded is still the table's copy, finished, with exactly `rows` rows (see copyIsWhole). */
  copyIsWhole(tableId: number, marker: Pick<StoredEvent, 'position' | 'commitTime'>, rows: number): Promise<boolean>;
  /** True when the stored position is still `expected`; holds it for the commit (a replay leaves it there). */
  confirm(tableId: number, expected: Position): Promise<boolean>;
  /** Compare-and-swap of the position from `expected` to `next`; false when another writer moved it. */
  advance(tableId: number, expected: Position, next: Position, commitTime: bigint): Promise<boolean>;
  /** New dead letters (an event already a letter is not added twice). */
  addDeadLetters(tableId: number, letters: readonly DeadLetter[]): Promise<void>;
  /** Open letters a later change of their keys outdated (DEAD_LETTER_MOVES.supersede). */
  supersedeDeadLetters(ids: readonly string[]): Promise<void>;
  /** A replay's outcomes; false when a letter was no longer 'replaying' (the commit must not stand). */
  settleDeadLetters(outcomes: readonly ReplayOutcome[]): Promise<boolean>;
}

/**
 * Port: the buffer database as one table's writer sees it (PostgresTableBuffer in production,
 * MemoryTableBuffer in unit tests). Reads run on their own; everything a step changes goes
 * through `commit`, all or nothing. One instance serves every table of a process.
 */
export interface TableBuffer {
  /** Up to `limit` events after `after`, in commit order, undecoded; bounded by `maxBytes` of payload when given (the first always in). */
  storedAfter(tableId: number, after: Position, limit: number, maxBytes?: number): Promise<StoredEvent[]>;
  /** The same, decoded. */
  after(tableId: number, after: Position, limit: number): Promise<DecodedEvent[]>;
  /** A stored event decoded (see decodeEvent). */
  decodeStored(stored: StoredEvent): DecodedEvent;
  /** An event stored elsewhere (a dead letter's copy) decoded with its schema version. */
  decode(tableId: number, event: UnversionedEvent): Promise<DecodedEvent>;
  version(tableId: number, version: number): Promise<TableSchemaVersion>;
  /** The schema version of the table's first event after `after`; undefined when none waits. */
  nextVersion(tableId: number, after: Position): Promise<number | undefined>;
  latestVersion(tableId: number): Promise<number | undefined>;
  /** Whether the reader finished copying the table (then it exists in Iceberg even when empty). */
  copied(tableId: number): Promise<boolean>;
  /** The last event applied to Iceberg (BEFORE_FIRST before any). */
  position(tableId: number): Promise<Position>;
  /** A table caught up at `at` has no backlog: its applied byte counter is healed (see WriterProgress.settleCaughtUp). */
  settleCaughtUp(tableId: number, at: Position): Promise<void>;
  /** Whether a copy holds the table back now (see copyHoldsTableSql): its writer leaves it alone. */
  copyHolds(tableId: number): Promise<boolean>;
  copyState(tableId: number): Promise<CopyState | undefined>;
  /** The table's letters still open, oldest first (no payloads). */
  openDeadLetters(tableId: number): Promise<OpenDeadLetter[]>;
  /** Up to `limit` letters an operator asked to replay, in source order. */
  replayingDeadLetters(tableId: number, limit: number): Promise<StoredDeadLetter[]>;
  /** Runs `work` in one transaction: it commits when `work` resolves, and nothing of it stays when it throws. */
  commit<T>(work: (commit: TableCommit) => Promise<T>): Promise<T>;
}
