/** Operations as stored in `cdc_events.op`. `R` is a row of a table's initial copy. */
export type ChangeOp = 'I' | 'U' | 'D' | 'T' | 'R';

/** One change, ready for the buffer: everything but the payload is a column of `cdc_events`. */
export interface BufferedEvent {
  readonly tableId: number;
  /** The source transaction's commit LSN (for copied rows: the copy's consistent point). */
  readonly commitLsn: bigint;
  /** Position within the source transaction (for copied rows: within the table's copy). */
  readonly seq: number;
  readonly op: ChangeOp;
  readonly xid: number | null;
  /** Microseconds since 2000-01-01 UTC, as the replication protocol sends times. */
  readonly commitTime: bigint;
  readonly schemaVersion: number;
  /** MessagePack, see @philotes/events `encodePayload`. */
  readonly payload: Uint8Array;
}

/** How far a source is durably in the buffer. */
export interface Checkpoint {
  /** Every transaction that commits before this LSN is in the buffer, whole. */
  readonly confirmedLsn: bigint;
  /** A transaction stored in part: its commit LSN and the last position stored. */
  readonly partial?: { readonly commitLsn: bigint; readonly seq: number };
  /** Commit time of the last whole transaction stored (PostgreSQL epoch microseconds). */
  readonly lastCommitTime?: bigint;
}
