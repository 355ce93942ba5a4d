import { ClientBase, Pool } from 'pg';
import { withPoolClient } from '@philotes/db';
import { formatLsn, parseLsn, timestamptzOfPgMicros } from '@philotes/pgoutput';
import { BEFORE_FIRST, Position } from '../event-forms';

/**
 * The payload bytes of the table's events in a range (the caller appends the range): what a move of
 * the position applied, added to `applied_bytes` so the table's backlog is its stored volume less
 * this (see cdc_table_volume). Counted from the buffer in the same statement: exact whatever the
 * step read, skipped or sent to the dead letters. octet_length reads a TOASTed payload's header only.
 */
const APPLIED_BYTES = 'SELECT coalesce(sum(octet_length(e.payload)), 0) FROM cdc_events e WHERE e.table_id = $1';

/**
 * `cdc_writer_progress`: per table, the last event applied to Iceberg. Saved in the same transaction
 * as the catalog swap, so the table and the offset never disagree.
 */
export class WriterProgress {
  constructor(private readonly pool: Pool) {}

  async load(tableId: number): Promise<Position> {
    const { rows } = await this.pool.query<{ applied_lsn: string; applied_seq: string }>('SELECT applied_lsn::text, applied_seq::text FROM cdc_writer_progress WHERE table_id = $1', [tableId]);
    return rows[0] ? { lsn: parseLsn(rows[0].applied_lsn), seq: Number(rows[0].applied_seq) } : BEFORE_FIRST;
  }

  /**
   * True when the stored position is still `expected` (nothing moved it under this writer); locks
   * the row for the caller's transaction. Before the first event no row exists yet.
   */
  static async confirm(db: ClientBase, tableId: number, expected: Position): Promise<boolean> {
    const { rows } = await db.query<{ applied_lsn: string; applied_seq: string }>(
      'SELECT applied_lsn::text, applied_seq::text FROM cdc_writer_progress WHERE table_id = $1 FOR UPDATE',
      [tableId],
    );
    if (!rows[0]) return expected.lsn === BEFORE_FIRST.lsn && expected.seq === BEFORE_FIRST.seq;
    return parseLsn(rows[0].applied_lsn) === expected.lsn && Number(rows[0].applied_seq) === expected.seq;
  }

  /**
   * A table caught up at `at` has no backlog: its applied bytes become its stored bytes. Heals any
   * drift of the counters (a process of an earlier release stores or applies without counting
   * during a rolling upgrade, say), each time a writer finds nothing after its position. Exact:
   * the volume row and the events are read in the statement's one snapshot, and the reader raises
   * the volume in the transaction that stores the events; a position moved meanwhile (a copy's
   * plan) leaves the row alone.
   */
  static async settleCaughtUp(pool: Pool, tableId: number, at: Position): Promise<void> {
    // REPEATABLE READ: a settle that waited on the row for a start over (which zeroes both
    // counters) must not write the stored bytes it read before; it fails (40001) and is skipped.
    await withPoolClient(pool, async (db) => {
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      try {
        await db.query(
          `UPDATE cdc_writer_progress p SET applied_bytes = v.stored_bytes
             FROM cdc_table_volume v
            WHERE p.table_id = $1 AND v.table_id = $1 AND p.applied_lsn = $2::pg_lsn AND p.applied_seq = $3
              AND p.applied_bytes IS DISTINCT FROM v.stored_bytes
              AND NOT EXISTS (SELECT 1 FROM cdc_events e WHERE e.table_id = $1 AND (e.commit_lsn, e.seq) > ($2::pg_lsn, $3::bigint))`,
          [tableId, formatLsn(at.lsn), at.seq],
        );
        await db.query('COMMIT');
      } catch (error) {
        await db.query('ROLLBACK').catch(() => undefined);
        if ((error as { code?: string }).code !== '40001') throw error;
      }
    });
  }

  /**
   * Moves the table's position from `expected` to `next` inside the caller's transaction; false when
   * the stored position is not `expected` (another writer moved it: this one is stale).
   */
  static async advance(db: ClientBase, tableId: number, expected: Position, next: Position, commitTime: bigint): Promise<boolean> {
    const time = timestamptzOfPgMicros(commitTime.toString());
    if (expected === BEFORE_FIRST || (expected.lsn === BEFORE_FIRST.lsn && expected.seq === BEFORE_FIRST.seq)) {
      const inserted = await db.query(
        `INSERT INTO cdc_writer_progress (table_id, applied_lsn, applied_seq, applied_commit_ts, applied_bytes)
         VALUES ($1, $2, $3, ${time}, (${APPLIED_BYTES} AND (e.commit_lsn, e.seq) <= ($2::pg_lsn, $3::bigint))) ON CONFLICT DO NOTHING`,
        [tableId, formatLsn(next.lsn), next.seq],
      );
      return inserted.rowCount === 1;
    }
    const updated = await db.query(
      `UPDATE cdc_writer_progress SET applied_lsn = $4, applied_seq = $5, applied_commit_ts = ${time}, updated_at = now(),
              applied_bytes = applied_bytes + (${APPLIED_BYTES} AND (e.commit_lsn, e.seq) > ($2::pg_lsn, $3::bigint) AND (e.commit_lsn, e.seq) <= ($4::pg_lsn, $5::bigint))
        WHERE table_id = $1 AND applied_lsn = $2 AND applied_seq = $3`,
      [tableId, formatLsn(expected.lsn), expected.seq, formatLsn(next.lsn), next.seq],
    );
    return updated.rowCount === 1;
  }
}
