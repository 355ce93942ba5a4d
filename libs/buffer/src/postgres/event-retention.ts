import { PoolClient } from 'pg';

/** Rows deleted per statement: short transactions, so the reader's writes never wait long. */
const DELETE_BATCH = 10_000;

/**
 * Deletes, in short batches, every event at or before its table's writer position that committed
 * before the cutoff; returns how many went. An event not yet applied stays however old it is.
 * Used for what dropping whole partitions leaves behind (see event-partitions.ts).
 */
export async function deleteAppliedEvents(client: PoolClient, cutoff: Date): Promise<number> {
  // Walk the primary key in order (see withIndexOrder): never fetch a whole backlog to sort it.
  await client.query('SET enable_sort = off; SET enable_bitmapscan = off');
  try {
    let total = 0;
    const { rows: tables } = await client.query<{ table_id: number; applied_lsn: string; applied_seq: string }>(
      'SELECT table_id, applied_lsn::text, applied_seq::text FROM cdc_writer_progress ORDER BY table_id',
    );
    for (const table of tables) {
      for (;;) {
        // The primary key's order: a table's oldest events first, found by an index range scan.
        const { rowCount } = await client.query(
          `DELETE FROM cdc_events WHERE (table_id, commit_lsn, seq, commit_ts) IN (
             SELECT table_id, commit_lsn, seq, commit_ts FROM cdc_events
              WHERE table_id = $1 AND (commit_lsn, seq) <= ($2::pg_lsn, $3::bigint) AND commit_ts < $4
              ORDER BY commit_lsn, seq LIMIT ${DELETE_BATCH})`,
          [table.table_id, table.applied_lsn, table.applied_seq, cutoff],
        );
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < DELETE_BATCH) break;
      }
    }
    return total;
  } finally {
    await client.query('RESET enable_sort; RESET enable_bitmapscan');
  }
}
