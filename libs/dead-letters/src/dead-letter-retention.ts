import { Pool } from 'pg';
import { LockSpace, withPoolClient } from '@philotes/db';

/** Rows deleted per statement: keeps each transaction (and its locks) short on a large backlog. */
const CHUNK = 10_000;

/**
 * Removes dead letters older than the retention, whatever their status (replayed and discarded ones
 * stay until then, for audit) — except those a writer is replaying right now. One admin replica at a
 * time runs it (advisory lock); the others skip the round. Returns how many went.
 */
export async function removeExpiredDeadLetters(pool: Pool, retentionMs: number): Promise<number> {
  return withPoolClient(pool, async (db) => {
    const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS ok', [LockSpace.DeadLetterRetention]);
    if (!rows[0].ok) return 0;
    try {
      let removed = 0;
      for (;;) {
        const { rowCount } = await db.query(
          `DELETE FROM cdc_dead_letters WHERE id IN (
             SELECT id FROM cdc_dead_letters
              WHERE created_at < now() - $1::bigint * interval '1 millisecond' AND status <> 'replaying'
              LIMIT ${CHUNK})`,
          [retentionMs],
        );
        removed += rowCount ?? 0;
        if ((rowCount ?? 0) < CHUNK) return removed;
      }
    } finally {
      await db.query('SELECT pg_advisory_unlock($1, 0)', [LockSpace.DeadLetterRetention]);
    }
  });
}
