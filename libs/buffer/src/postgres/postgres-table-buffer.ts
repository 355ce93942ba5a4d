import { ClientBase, Pool } from 'pg';
import { inTransaction } from '@philotes/db';
import { DecodedEvent, Position, StoredEvent, TableSchemaVersion, UnversionedEvent } from '../event-forms';
import { CopyState, TableBuffer, TableCommit } from '../table-buffer';
import { copyIsWhole, copyState } from './backfill-store';
import { copyHoldsTable } from './copy-holds';
import { DeadLetterStore, OpenDeadLetter, PostgresDeadLetterStore, StoredDeadLetter } from './dead-letter-store';
import { EventReader } from './event-reader';
import { WriterProgress } from './writer-progress';

/**
 * The table writers' buffer in PostgreSQL: the event reader, the writer progress and the dead
 * letters, a commit being one transaction of the pool (the SQL catalog's swap joins it on `db`).
 * Adds no SQL of its own: each method is the store's.
 */
export class PostgresTableBuffer implements TableBuffer {
  constructor(
    private readonly pool: Pool,
    private readonly changes: EventReader = new EventReader(pool),
    private readonly progress: WriterProgress = new WriterProgress(pool),
    private readonly deadLetters: DeadLetterStore = new PostgresDeadLetterStore(pool),
  ) {}

  storedAfter(tableId: number, after: Position, limit: number, maxBytes?: number): Promise<StoredEvent[]> {
    return this.changes.storedAfter(tableId, after, limit, maxBytes);
  }

  after(tableId: number, after: Position, limit: number): Promise<DecodedEvent[]> {
    return this.changes.after(tableId, after, limit);
  }

  decodeStored(stored: StoredEvent): DecodedEvent {
    return this.changes.decodeStored(stored);
  }

  decode(tableId: number, event: UnversionedEvent): Promise<DecodedEvent> {
    return this.changes.decode(tableId, event);
  }

  version(tableId: number, version: number): Promise<TableSchemaVersion> {
    return this.changes.version(tableId, version);
  }

  nextVersion(tableId: number, after: Position): Promise<number | undefined> {
    return this.changes.nextVersion(tableId, after);
  }

  latestVersion(tableId: number): Promise<number | undefined> {
    return this.changes.latestVersion(tableId);
  }

  copied(tableId: number): Promise<boolean> {
    return this.changes.copied(tableId);
  }

  position(tableId: number): Promise<Position> {
    return this.progress.load(tableId);
  }

  settleCaughtUp(tableId: number, at: Position): Promise<void> {
    return WriterProgress.settleCaughtUp(this.pool, tableId, at);
  }

  copyHolds(tableId: number): Promise<boolean> {
    return copyHoldsTable(this.pool, tableId);
  }

  copyState(tableId: number): Promise<CopyState | undefined> {
    return copyState(this.pool, tableId);
  }

  openDeadLetters(tableId: number): Promise<OpenDeadLetter[]> {
    return this.deadLetters.open(tableId);
  }

  replayingDeadLetters(tableId: number, limit: number): Promise<StoredDeadLetter[]> {
    return this.deadLetters.replaying(tableId, limit);
  }

  commit<T>(work: (commit: TableCommit) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (db) => work(transactionCommit(db, this.deadLetters)));
  }
}

/** The commit's statements, each on the transaction's connection. */
function transactionCommit(db: ClientBase, deadLetters: DeadLetterStore): TableCommit {
  return {
    unit: { db },
    copyIsWhole: (tableId, marker, rows) => copyIsWhole(db, tableId, marker, rows),
    confirm: (tableId, expected) => WriterProgress.confirm(db, tableId, expected),
    advance: (tableId, expected, next, commitTime) => WriterProgress.advance(db, tableId, expected, next, commitTime),
    addDeadLetters: (tableId, letters) => deadLetters.add(db, tableId, letters),
    supersedeDeadLetters: (ids) => deadLetters.supersede(db, ids),
    settleDeadLetters: (outcomes) => deadLetters.settle(db, outcomes),
  };
}
