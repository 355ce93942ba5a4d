import { ClientBase, Pool } from 'pg';
import { formatLsn, parseLsn } from '@philotes/pgoutput';
import { BEFORE_FIRST, Position } from './buffered-changes';

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
   * Moves the table's position from `expected` to `next` inside the caller's transaction; false when
   * the stored position is not `expected` (another writer moved it: this one is stale).
   */
  static async advance(db: ClientBase, tableId: number, expected: Position, next: Position, commitTime: bigint): Promise<boolean> {
    const time = `timestamptz '2000-01-01 00:00:00+00' + ${commitTime.toString()}::bigint * interval '1 microsecond'`;
    if (expected === BEFORE_FIRST || (expected.lsn === BEFORE_FIRST.lsn && expected.seq === BEFORE_FIRST.seq)) {
      const inserted = await db.query(
        `INSERT INTO cdc_writer_progress (table_id, applied_lsn, applied_seq, applied_commit_ts) VALUES ($1, $2, $3, ${time}) ON CONFLICT DO NOTHING`,
        [tableId, formatLsn(next.lsn), next.seq],
      );
      return inserted.rowCount === 1;
    }
    const updated = await db.query(
      `UPDATE cdc_writer_progress SET applied_lsn = $4, applied_seq = $5, applied_commit_ts = ${time}, updated_at = now()
        WHERE table_id = $1 AND applied_lsn = $2 AND applied_seq = $3`,
      [tableId, formatLsn(expected.lsn), expected.seq, formatLsn(next.lsn), next.seq],
    );
    return updated.rowCount === 1;
  }
}
