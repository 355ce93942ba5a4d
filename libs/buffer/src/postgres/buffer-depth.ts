import { ClientBase, Pool } from 'pg';
import { copyHoldsTableSql } from './copy-holds';

/**
 * Events of a source that no writer has applied yet, counted up to `cap` per table, leaving out
 * tables a copy holds (their events wait for the copy, not for a writer): backpressure
 * only needs to know whether the depth passed a watermark, and a capped count stays cheap however
 * far behind the writers are.
 */
export async function unappliedDepth(db: ClientBase | Pool, sourceId: string, cap: number): Promise<number> {
  const { rows } = await db.query<{ depth: string }>(
    `SELECT coalesce(sum(pending), 0) AS depth FROM (
       SELECT (SELECT count(*) FROM (
                 SELECT 1 FROM cdc_events e
                  WHERE e.table_id = t.table_id
                    AND (e.commit_lsn, e.seq) > (coalesce(p.applied_lsn, '0/0'::pg_lsn), coalesce(p.applied_seq, -1))
                  LIMIT $2) capped) AS pending
         FROM cdc_tables t LEFT JOIN cdc_writer_progress p USING (table_id)
        WHERE t.source_id = $1 AND NOT ${copyHoldsTableSql('t.table_id')}) per_table`,
    [sourceId, cap],
  );
  return Number(rows[0].depth);
}
