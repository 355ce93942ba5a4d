import { Pool } from 'pg';
import { LockSpace, withPoolClient } from '@philotes/db';

/** Rows deleted per statement: keeps each transaction (and its locks) short on a large backlog. */
const CHUNK = 10_000;

/** Letters somebody settled: replayed, discarded, or superseded by a later change of their row. */
const SETTLED = ['replayed', 'discarded', 'superseded'];

/**
 * Removes settled dead letters older than the retention (they stay until then, for audit). A
 * pending or replaying letter is never removed, however old: nobody decided to drop its event
 * (pendingPastRetention counts them for an alert). One admin replica at a time runs it (advisory
 * lock); the others skip the round. Returns how many went.
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
              WHERE created_at < now() - $1::bigint * interval '1 millisecond' AND status = ANY($2::text[])
              LIMIT ${CHUNK})`,
          [retentionMs, SETTLED],
        );
        removed += rowCount ?? 0;
        if ((rowCount ?? 0) < CHUNK) return removed;
      }
    } finally {
      await db.query('SELECT pg_advisory_unlock($1, 0)', [LockSpace.DeadLetterRetention]);
    }
  });
}

/** Pending dead letters older than the retention: kept, and reported (an operator must decide). */
export async function pendingPastRetention(pool: Pool, retentionMs: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM cdc_dead_letters WHERE status = 'pending' AND created_at < now() - $1::bigint * interval '1 millisecond'",
    [retentionMs],
  );
  return rows[0].n;
}
