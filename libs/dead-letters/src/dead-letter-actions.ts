import { Pool, PoolClient } from 'pg';
import { CONTROL_CHANNEL, encodeTableNotices } from '@philotes/buffer';
import { inTransaction } from '@philotes/db';
import { NotFoundError, OutOfBoundsError, StateConflictError } from './dead-letter-errors';
import { DeadLetterFilter, DeadLetterStatus, filterConditions } from './dead-letter-filter';

/** Who asked, for the letter's history (the API has one shared token, so the caller says). */
export interface Requester {
  readonly requestedBy?: string;
}

/** The state changes an operator may ask for, per current status. */
const ALLOWED: Record<'replay' | 'discard', ReadonlySet<DeadLetterStatus>> = {
  replay: new Set(['pending']),
  discard: new Set(['pending', 'superseded']),
};

/** Why a state change is refused, per current status: the 409's message. */
const REFUSAL: Record<DeadLetterStatus, string> = {
  pending: 'it is pending',
  replaying: 'a replay of it is in progress',
  replayed: 'it was already replayed',
  discarded: 'it was discarded',
  superseded: 'a later change of the same row was written after it; replaying it would move the row back in time',
};

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
  constructor(
    private readonly pool: Pool,
    private readonly bulkLimit: () => number,
  ) {}

  /** Queues one letter for replay. Already queued: nothing changes (asking twice replays once). */
  async replay(id: string, requester: Requester): Promise<{ readonly status: 'replaying'; readonly alreadyQueued: boolean }> {
    return inTransaction(this.pool, async (db) => {
      const current = await this.lock(db, id);
      if (current.status === 'replaying') return { status: 'replaying', alreadyQueued: true };
      this.mayMove('replay', id, current.status);
      await this.move(db, [id], 'replaying', { event: 'replay-requested', by: requester.requestedBy ?? null });
      await notifyWriters(db, [{ source: current.source, tableId: current.tableId }]);
      return { status: 'replaying', alreadyQueued: false };
    });
  }

  /** Discards one letter with a reason; it is kept (status 'discarded') until retention removes it. */
  async discard(id: string, reason: string, requester: Requester): Promise<{ readonly status: 'discarded' }> {
    return inTransaction(this.pool, async (db) => {
      const current = await this.lock(db, id);
      this.mayMove('discard', id, current.status);
      await this.move(db, [id], 'discarded', { event: 'discarded', reason, by: requester.requestedBy ?? null }, reason);
      return { status: 'discarded' };
    });
  }

  /** Queues up to `limit` pending letters matching the filter, oldest source position first. */
  async replayMatching(filter: Omit<DeadLetterFilter, 'status'>, limit: number, requester: Requester): Promise<BulkResult> {
    this.checkLimit(limit);
    return inTransaction(this.pool, async (db) => {
      const picked = await this.pick(db, { ...filter }, ['pending'], limit);
      await this.move(db, picked.map((p) => p.id), 'replaying', { event: 'replay-requested', by: requester.requestedBy ?? null });
      await notifyWriters(db, picked);
      return { count: picked.length, more: picked.length === limit && (await this.pick(db, filter, ['pending'], 1)).length > 0 };
    });
  }

  /** Discards up to `limit` letters matching the filter (pending or superseded ones). */
  async discardMatching(filter: DeadLetterFilter, reason: string, limit: number, requester: Requester): Promise<BulkResult> {
    this.checkLimit(limit);
    // Discarding drops events for good: "everything" must be said, not implied by an empty filter.
    if (Object.values(filter).every((value) => value === undefined)) {
      throw new OutOfBoundsError('filter', 'a discard by filter needs at least one of source, schema, table, errorClass, status, from, to (discarding every dead letter is never implied)');
    }
    const statuses = filter.status ? [filter.status].filter((s) => ALLOWED.discard.has(s)) : [...ALLOWED.discard];
    if (statuses.length === 0) throw new OutOfBoundsError('status', `only ${[...ALLOWED.discard].join(' or ')} dead letters can be discarded`);
    return inTransaction(this.pool, async (db) => {
      const picked = await this.pick(db, { ...filter, status: undefined }, statuses, limit);
      await this.move(db, picked.map((p) => p.id), 'discarded', { event: 'discarded', reason, by: requester.requestedBy ?? null }, reason);
      return { count: picked.length, more: picked.length === limit && (await this.pick(db, { ...filter, status: undefined }, statuses, 1)).length > 0 };
    });
  }

  private checkLimit(limit: number): void {
    const most = this.bulkLimit();
    if (limit > most) throw new OutOfBoundsError('limit', `limit must not be greater than ${most} (PHILOTES_ADMIN_REPLAY_LIMIT)`);
  }

  private mayMove(action: 'replay' | 'discard', id: string, status: DeadLetterStatus): void {
    if (!ALLOWED[action].has(status)) throw new StateConflictError(`dead letter ${id} cannot be ${action === 'replay' ? 'replayed' : 'discarded'}: ${REFUSAL[status]}`, status);
  }

  private async lock(db: PoolClient, id: string): Promise<{ status: DeadLetterStatus; source: string; tableId: number }> {
    const { rows } = await db.query<{ status: DeadLetterStatus; source: string; table_id: number }>(
      `SELECT d.status, t.source_id AS source, d.table_id FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        WHERE d.id = $1::bigint FOR UPDATE OF d`,
      [id],
    );
    if (!rows[0]) throw new NotFoundError(`dead letter ${id}`);
    return { status: rows[0].status, source: rows[0].source, tableId: rows[0].table_id };
  }

  /** Locks up to `limit` matching letters in the given statuses; ones another request holds are skipped. */
  private async pick(db: PoolClient, filter: DeadLetterFilter, statuses: readonly DeadLetterStatus[], limit: number): Promise<Array<{ id: string; source: string; tableId: number }>> {
    const params: unknown[] = [statuses];
    const conditions = ['d.status = ANY($1::text[])', ...filterConditions({ ...filter, status: undefined }, params)];
    params.push(limit);
    const { rows } = await db.query<{ id: string; source: string; table_id: number }>(
      `SELECT d.id::text AS id, t.source_id AS source, d.table_id FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        WHERE ${conditions.join(' AND ')}
        ORDER BY d.table_id, d.commit_lsn, d.seq LIMIT $${params.length}
        FOR UPDATE OF d SKIP LOCKED`,
      params,
    );
    return rows.map((row) => ({ id: row.id, source: row.source, tableId: row.table_id }));
  }

  private async move(db: PoolClient, ids: readonly string[], status: DeadLetterStatus, entry: Record<string, unknown>, reason?: string): Promise<void> {
    if (ids.length === 0) return;
    await db.query(
      `UPDATE cdc_dead_letters
          SET status = $2, status_reason = coalesce($3, status_reason), updated_at = now(),
              history = history || jsonb_build_array(jsonb_strip_nulls($4::jsonb || jsonb_build_object('at', now())))
        WHERE id = ANY($1::bigint[])`,
      [ids, status, reason ?? null, JSON.stringify(entry)],
    );
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
    for (const notice of encodeTableNotices(source, [...tables])) await db.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, notice]);
  }
}
