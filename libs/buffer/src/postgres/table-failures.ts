import { ClientBase, Pool } from 'pg';
import { inTransaction } from '@philotes/db';

/** A table its writers gave up on (`cdc_table_failures`): why, and what the operator should do. */
export interface TableFailure {
  readonly kind: string;
  /** The error's message: never row values (the writer's errors name tables, columns and positions). */
  readonly message: string;
  readonly action: string;
  readonly attempts: number;
  readonly failedBy?: string;
}

/**
 * Marks the table failed (or updates the record of a failure seen again) — only while its writer
 * position is still `at`, the one the failing steps started from (an LSN and position as text, or
 * undefined before the first event): a copy planned meanwhile moved it and replaced what failed,
 * and a stale failure must not hold the copied table. False when not recorded.
 */
export async function recordTableFailure(pool: Pool, tableId: number, failure: TableFailure, at: { readonly lsn: string; readonly seq: number } | undefined): Promise<boolean> {
  return inTransaction(pool, async (db) => {
    // Ordered with a copy's plan, which holds this row FOR UPDATE until it commits (clearing
    // failures and moving the position): the check below then sees the plan, or the plan waits
    // and clears this failure.
    await db.query('SELECT 1 FROM cdc_backfill WHERE table_id = $1 FOR SHARE', [tableId]);
    const result = await db.query(
    `INSERT INTO cdc_table_failures (table_id, error_kind, error_message, action, attempts, failed_by)
     SELECT $1, $2, $3, $4, $5, $6
      WHERE CASE WHEN $7::pg_lsn IS NULL THEN NOT EXISTS (SELECT 1 FROM cdc_writer_progress WHERE table_id = $1)
                 ELSE EXISTS (SELECT 1 FROM cdc_writer_progress WHERE table_id = $1 AND applied_lsn = $7::pg_lsn AND applied_seq = $8) END
     ON CONFLICT (table_id) DO UPDATE SET error_kind = EXCLUDED.error_kind, error_message = EXCLUDED.error_message,
       action = EXCLUDED.action, attempts = EXCLUDED.attempts, failed_by = EXCLUDED.failed_by, failed_at = now()`,
    [tableId, failure.kind, failure.message.slice(0, 2_000), failure.action, failure.attempts, failure.failedBy ?? null, at?.lsn ?? null, at?.seq ?? 0],
    );
    return (result.rowCount ?? 0) > 0;
  });
}

/**
 * An operator's resume or resync: the tables are written again (their events never left the
 * buffer). Returns how many were failed.
 */
export async function clearTableFailures(db: Pick<ClientBase, 'query'>, tableIds: readonly number[]): Promise<number> {
  if (tableIds.length === 0) return 0;
  const result = await db.query('DELETE FROM cdc_table_failures WHERE table_id = ANY ($1::int[])', [tableIds]);
  return result.rowCount ?? 0;
}
