import { CdcValue, ColumnSchema } from '@philotes/events';
import { formatLsn } from '@philotes/pgoutput';
import { ClassifiedError, needsOperator } from '@philotes/retry';

/** A source table as the writer sees it. */
export interface TableRef {
  readonly tableId: number;
  readonly sourceId: string;
  readonly schema: string;
  readonly table: string;
}

/** Where a table's writer is in its event stream (the last event applied, or before the first). */
export interface Position {
  readonly lsn: bigint;
  readonly seq: number;
}

export const BEFORE_FIRST: Position = { lsn: 0n, seq: Number.MIN_SAFE_INTEGER };

/**
 * Whether a sequence number is an integer a double holds exactly. Wider than `isSafeInteger` by
 * one at each end: earlier readers gave the first copied row -(2^53), which is exact (a power of
 * two) but not "safe", and buffers may still hold it.
 */
export function isExactSeq(seq: number): boolean {
  return Number.isInteger(seq) && Math.abs(seq) <= 2 ** 53;
}

/** Source order: negative when `a` comes first. */
export function comparePositions(a: Position, b: Position): number {
  return a.lsn === b.lsn ? a.seq - b.seq : a.lsn < b.lsn ? -1 : 1;
}

/**
 * A row of `cdc_events` has three forms, one per stage, and these names only:
 * - `BufferedEvent` (buffered-event.ts): as the reader writes it;
 * - `StoredEvent`: as a writer reads it, undecoded, with the columns of its schema version;
 * - `DecodedEvent`: its payload decoded into row images, as the fold consumes it.
 */
export interface DecodedEvent {
  readonly position: Position;
  readonly op: 'I' | 'U' | 'D' | 'T' | 'R';
  readonly xid: number | null;
  /** PostgreSQL-epoch microseconds. */
  readonly commitTime: bigint;
  readonly schemaVersion: number;
  readonly columns: readonly ColumnSchema[];
  readonly after?: readonly CdcValue[];
  readonly before?: readonly CdcValue[];
  readonly beforeIsKeyOnly: boolean;
  /** The stored bytes, kept for the dead letters. */
  readonly payload: Buffer;
  /** A change too large to store: its size, and no row (see ChangePayload.oversized). */
  readonly oversized?: number;
}

/**
 * A buffered event whose payload does not decode (a bug, or a hand-edited buffer). Retrying cannot
 * help and skipping it would lose a change: the table fails and waits for a resync.
 */
export class CorruptEventError extends ClassifiedError {
  constructor(position: Position, cause: unknown) {
    // The decoder's message names the fault (a byte, a length), never the row's values.
    super(`the buffered event at ${formatLsn(position.lsn)}/${position.seq} does not decode: ${cause instanceof Error ? cause.message : String(cause)}`, needsOperator('data', 'the buffer holds a corrupt event: resync the table (POST /api/v1/sources/{source}/tables/{schema}/{table}/resync)'), { cause });
  }
}

/** An event as a writer reads it, with the columns of its schema version: decoded when it is folded ({@link EventReader.decodeStored}). */
export type StoredEvent = Pick<DecodedEvent, 'position' | 'op' | 'xid' | 'commitTime' | 'schemaVersion' | 'payload' | 'columns'>;

/** A stored event whose schema version is not looked up yet (a dead letter's copy, say). */
export type UnversionedEvent = Omit<StoredEvent, 'columns'>;

export interface TableSchemaVersion {
  readonly columns: readonly ColumnSchema[];
  readonly replicaIdentity: string;
}
