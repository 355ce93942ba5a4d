import { Pool, PoolClient } from 'pg';
import { CONTROL_CHANNEL, DEAD_LETTER_MOVES, DeadLetterFilter, DeadLetterStatus, encodeTableNotices, LockedDeadLetter, mayMove, notify, PostgresDeadLetterStore, REFUSAL } from '@philotes/buffer';
import { inTransaction } from '@philotes/db';
import { NotFoundError, OutOfBoundsError, StateConflictError } from './dead-letter-errors';

/** Who asked, for the letter's history (the API has one shared token, so the caller says). */
export interface Requester {
  readonly requestedBy?: string;
}

/** The moves an operator asks for, by the API's action name. */
const OPERATOR_MOVE = { replay: 'requestReplay', discard: 'discard' } as const;

export interface BulkResult {
  /** Dead letters this request moved. */
  readonly count: number;
  /** More matched than the limit allowed: ask again for the rest. */
  readonly more: boolean;
}

/**
 * Replaying and discarding dead letters. Each change of status is one UPDATE guarded by the status
 * it expects, so concurrent requests (from any number of admin replicas) move each letter once.
 * A replay only queues the letter ('replaying') and wakes the writers; the writer that owns the
 * table applies it and settles it in the same transaction as its Iceberg commit.
 */
export class DeadLetterActions {
  private readonly store: PostgresDeadLetterStore;

  constructor(
    private readonly pool: Pool,
    private readonly bulkLimit: () => number,
  ) {
    this.store = new PostgresDeadLetterStore(pool);
  }

  /** Queues one letter for replay. Already queued: nothing changes (asking twice replays once). */
  async replay(id: string, requester: Requester): Promise<{ readonly status: 'replaying'; readonly alreadyQueued: boolean }> {
    return inTransaction(this.pool, async (db) => {
      const current = await this.lock(db, id);
      if (current.status === DEAD_LETTER_MOVES.requestReplay.to) return { status: 'replaying', alreadyQueued: true };
      this.mayMove('replay', id, current.status);
      await this.store.move(db, [id], 'requestReplay', { by: requester.requestedBy });
      await notifyWriters(db, [{ source: current.source, tableId: current.tableId }]);
      return { status: 'replaying', alreadyQueued: false };
    });
  }

  /** Discards one letter with a reason; it is kept (status 'discarded') until retention removes it. */
  async discard(id: string, reason: string, requester: Requester): Promise<{ readonly status: 'discarded' }> {
    return inTransaction(this.pool, async (db) => {
      const current = await this.lock(db, id);
      this.mayMove('discard', id, current.status);
      await this.store.move(db, [id], 'discard', { by: requester.requestedBy, reason });
      return { status: 'discarded' };
    });
  }

  /** Queues up to `limit` pending letters matching the filter, oldest source position first. */
  async replayMatching(filter: Omit<DeadLetterFilter, 'status'>, limit: number, requester: Requester): Promise<BulkResult> {
    this.checkLimit(limit);
    return inTransaction(this.pool, async (db) => {
      const from = DEAD_LETTER_MOVES.requestReplay.from;
      const picked = await this.store.pick(db, filter, from, limit);
      await this.store.move(db, picked.map((p) => p.id), 'requestReplay', { by: requester.requestedBy });
      await notifyWriters(db, picked);
      return { count: picked.length, more: picked.length === limit && (await this.store.pick(db, filter, from, 1)).length > 0 };
    });
  }

  /** Discards up to `limit` letters matching the filter (pending or superseded ones). */
  async discardMatching(filter: DeadLetterFilter, reason: string, limit: number, requester: Requester): Promise<BulkResult> {
    this.checkLimit(limit);
    // Discarding drops events for good: "everything" must be said, not implied by an empty filter.
    if (Object.values(filter).every((value) => value === undefined)) {
      throw new OutOfBoundsError('filter', 'a discard by filter needs at least one of source, schema, table, errorClass, status, from, to (discarding every dead letter is never implied)');
    }
    const discardable = DEAD_LETTER_MOVES.discard.from;
    const statuses = filter.status ? discardable.filter((s) => s === filter.status) : [...discardable];
    if (statuses.length === 0) throw new OutOfBoundsError('status', `only ${discardable.join(' or ')} dead letters can be discarded`);
    const { status: _status, ...rest } = filter;
    return inTransaction(this.pool, async (db) => {
      const picked = await this.store.pick(db, rest, statuses, limit);
      await this.store.move(db, picked.map((p) => p.id), 'discard', { by: requester.requestedBy, reason });
      return { count: picked.length, more: picked.length === limit && (await this.store.pick(db, rest, statuses, 1)).length > 0 };
    });
  }

  private checkLimit(limit: number): void {
    const most = this.bulkLimit();
    if (limit > most) throw new OutOfBoundsError('limit', `limit must not be greater than ${most} (PHILOTES_ADMIN_REPLAY_LIMIT)`);
  }

  private mayMove(action: keyof typeof OPERATOR_MOVE, id: string, status: DeadLetterStatus): void {
    if (!mayMove(OPERATOR_MOVE[action], status)) throw new StateConflictError(`dead letter ${id} cannot be ${action === 'replay' ? 'replayed' : 'discarded'}: ${REFUSAL[status]}`, status);
  }

  private async lock(db: PoolClient, id: string): Promise<LockedDeadLetter> {
    const locked = await this.store.lock(db, id);
    if (!locked) throw new NotFoundError(`dead letter ${id}`);
    return locked;
  }
}

/** Wakes the writers of the tables (delivered when the transaction commits): they apply replays first. */
async function notifyWriters(db: PoolClient, picked: ReadonlyArray<{ source: string; tableId: number }>): Promise<void> {
  const bySource = new Map<string, Set<number>>();
  for (const { source, tableId } of picked) {
    if (!bySource.has(source)) bySource.set(source, new Set());
    bySource.get(source)!.add(tableId);
  }
  for (const [source, tables] of bySource) {
    for (const notice of encodeTableNotices(source, [...tables])) await notify(db, CONTROL_CHANNEL, notice);
  }
}
