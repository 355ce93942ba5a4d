import { ClientBase } from 'pg';
import { CopyReason } from '../ports';

/**
 * SQL: whether a table's copy holds it back — writers leave it alone, and its events do not count
 * towards the source's backpressure (they wait for the copy, not for a writer):
 *
 * | cdc_backfill                                   | held | because |
 * | ---------------------------------------------- | ---- | ------- |
 * | copying                                        | yes  | its copy's rows sort before events already buffered |
 * | failed                                         | yes  | its copy cannot run; a resync tries again |
 * | requested, never copied (joined, or after a failed copy) | yes | its changes alone are not the table |
 * | requested, recreated (a new relation)          | yes  | the old relation's rows are not this one's |
 * | requested after a finished copy (resync, left the publication) | no | its last copy is still its content |
 * | done, or no row                                | no   | |
 */
export function copyHoldsTableSql(tableId: string): string {
  return `EXISTS (SELECT 1 FROM cdc_backfill hold WHERE hold.table_id = ${tableId}
                   AND (hold.status IN ('copying', 'failed')
                        OR (hold.status = 'requested' AND (hold.finished_at IS NULL OR hold.reason = 'recreated'))))`;
}

/**
 * Asks for a copy of a table: one the stream just described (it joined the publication, or is a
 * new relation under a copied name), before any of its changes reaches the buffer, or every table
 * of a slot made elsewhere. Writers hold it from now on (see copyHoldsTableSql); the reader copies
 * it beside the stream. A copy already running is left alone.
 */
export async function requestCopy(db: Pick<ClientBase, 'query'>, tableId: number, reason: Exclude<CopyReason, 'resync'>): Promise<void> {
  await db.query(
    `INSERT INTO cdc_backfill (table_id, status, reason) VALUES ($1, 'requested', $2)
     ON CONFLICT (table_id) DO UPDATE SET status = 'requested',
       -- A table with a finished copy the stream sees as uncovered is a new relation (or one back
       -- in the publication): its last copy is not its content, so writers hold it.
       reason = CASE WHEN cdc_backfill.finished_at IS NOT NULL AND EXCLUDED.reason = 'joined' THEN 'recreated' ELSE EXCLUDED.reason END
     WHERE cdc_backfill.status <> 'copying'`,
    [tableId, reason],
  );
}

/** Whether a copy holds the table now (see copyHoldsTableSql). */
export async function copyHoldsTable(db: Pick<ClientBase, 'query'>, tableId: number): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(`SELECT ${copyHoldsTableSql('$1::int')} AS held`, [tableId]);
  return rows[0].held;
}
