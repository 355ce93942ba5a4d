import { ColumnSchema } from '@philotes/events';
import { BufferedEvent, Checkpoint } from './buffered-event';

/**
 * The buffer database as the reader sees it. Every method of a reader's stores runs on the one
 * connection that holds the source's leader lock: if that connection is lost, so is the right to
 * write, and a stale reader cannot write after a standby took over.
 */
export interface LeaderLock {
  /** True when this connection now leads the source (non-blocking). */
  tryAcquire(sourceId: string): Promise<boolean>;
}

export interface Checkpointer {
  load(sourceId: string): Promise<Checkpoint | undefined>;
  /** Records where a new slot starts; does nothing when the source already has a checkpoint. */
  initialise(sourceId: string, slot: string, lsn: bigint): Promise<void>;
  /** Whether an operator asked to start the source over (a new slot, every table copied again). */
  resyncRequested(sourceId: string): Promise<boolean>;
  /**
   * Starts the source over at a new slot's position, in one transaction: the checkpoint moves
   * there (backwards too: a restored or moved cluster has LSNs of its own), the old history's
   * buffered events go, and every table of the source is marked for a copy.
   */
  startOver(sourceId: string, slot: string, lsn: bigint): Promise<void>;
  /**
   * Moves the position forward while nothing is pending (idle source, unpublished changes). False
   * when the stored checkpoint did not move (it is already there, or a transaction is stored in
   * part): the caller must not confirm more than is stored.
   */
  advanceIdle(sourceId: string, lsn: bigint): Promise<boolean>;
}

export interface EventStore {
  /** Writes events and the checkpoint that covers them in one transaction, then wakes writers. */
  commit(sourceId: string, events: readonly BufferedEvent[], checkpoint: Checkpoint): Promise<void>;
  /**
   * Writes rows of a table's copy with the copy's progress, in one transaction; refused
   * (CopyFencedError) when the table's copy is no longer this generation's.
   */
  commitCopy(sourceId: string, tableId: number, generation: number, events: readonly BufferedEvent[], rowsCopied: number): Promise<void>;
}

export interface RelationSchema {
  readonly relationOid: number;
  readonly replicaIdentity: 'd' | 'n' | 'f' | 'i';
  readonly columns: readonly ColumnSchema[];
}

export interface SchemaStore {
  /** The id of a source table, registering it on first sight. */
  tableId(sourceId: string, schema: string, table: string): Promise<number>;
  /** The schema version for these columns: the latest if unchanged, else a new one. */
  recordVersion(tableId: number, schema: RelationSchema, firstLsn: bigint): Promise<number>;
}

/** A snapshot as PostgreSQL reports it (`pg_current_snapshot()`), with the WAL position after it. */
export interface CopySnapshot {
  readonly lsn: bigint;
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly xip: readonly bigint[];
}

/** Why a table is copied: first start, it joined the publication, it is a new relation, an operator asked. */
export type CopyReason = 'initial' | 'joined' | 'recreated' | 'resync';

export interface BackfillState {
  readonly tableId: number;
  readonly schema: string;
  readonly table: string;
  /** requested: an operator asked for a resync, planned at the reader's next start. */
  readonly status: 'requested' | 'copying' | 'done' | 'failed';
  /** Absent while only requested. */
  readonly snapshot?: CopySnapshot;
  readonly rowsCopied: number;
  /** The relation the copy read (absent for copies of earlier releases). */
  readonly relationOid?: number;
  /** The publication's membership row the copy saw (absent: FOR ALL TABLES, a schema publication, an earlier release). */
  readonly membershipOid?: number;
  readonly reason: CopyReason;
  /** Its buffered events belong to the source's old history (a source started over). */
  readonly discardHistory: boolean;
}

/** A copy about to run: what it reads, where the stream stands, and why. */
export interface CopyPlan {
  readonly snapshot: CopySnapshot;
  /**
   * The stream's fence: every change of the table streamed from here on passes the copy's
   * filter (changes the snapshot shows are left out), and every one streamed before is in the
   * buffer. No transaction after the fence commits before it.
   */
  readonly fenceLsn: bigint;
  readonly relationOid: number;
  readonly membershipOid?: number;
  readonly reason: CopyReason;
  /**
   * Whether the table's events in the buffer belong to another history (a source started over
   * with a new slot): they all go. Otherwise those the snapshot shows go (the copy holds them)
   * and the others stay, to be applied after the copy.
   */
  readonly discardHistory?: boolean;
  /** The copy's opening TRUNCATE, written with the plan so writers wait for the copy from the start. */
  readonly marker: { readonly schemaVersion: number; readonly commitTime: bigint; readonly payload: Uint8Array };
}

/** A planned copy: the position its rows take, and its generation (see BackfillStore.begin). */
export interface CopyStart {
  /** Before every event of the table the buffer keeps: the fence, or an earlier change the snapshot does not show. */
  readonly copyLsn: bigint;
  readonly generation: number;
}

export interface BackfillStore {
  states(sourceId: string): Promise<BackfillState[]>;
  /**
   * Starts (or restarts) a table's copy, in one transaction: the table's buffered events the
   * snapshot shows (the copy holds them) and earlier copies' rows go, the copy's TRUNCATE takes
   * the position before every event kept, the writer position moves to just before it, open dead
   * letters are superseded, and the table is marked copying under a new generation.
   */
  begin(tableId: number, plan: CopyPlan): Promise<CopyStart>;
  /** Marks a table's copy failed for good (until a resync): the table waits, with the reason; its rows so far are never applied (not finished). */
  fail(tableId: number, generation: number, reason: string): Promise<void>;
  /** Marks a table's copy complete; writers may apply it from now on. Refused (CopyFencedError) for a replaced generation. */
  finish(sourceId: string, tableId: number, generation: number, rowsCopied: number): Promise<void>;
}
