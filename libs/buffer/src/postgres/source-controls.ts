import { ClientBase, Pool } from 'pg';

/** An operator's pause of a whole source: its `pipeline_controls` row with no table, paused. */
export interface OperatorPause {
  /** The operator's text; undefined when none was given. */
  readonly reason?: string;
}

/**
 * The operator's pause of `sourceId`, or undefined when it is not paused (no row, or `paused` false).
 * Rows with a table id pause one table for the writers; the reader ignores them. One lookup in the
 * unique index `pipeline_controls_scope`, cheap enough to poll.
 */
export async function operatorPauseOf(db: ClientBase | Pool, sourceId: string): Promise<OperatorPause | undefined> {
  const { rows } = await db.query<{ reason: string | null }>(
    'SELECT reason FROM pipeline_controls WHERE source_id = $1 AND coalesce(table_id, 0) = 0 AND table_id IS NULL AND paused',
    [sourceId],
  );
  if (rows.length === 0) return undefined;
  const reason = rows[0].reason?.trim();
  return reason ? { reason } : {};
}

/** Whether the scope (a source, or one of its tables) is paused now, its row locked for the caller's transaction. */
export async function lockControl(db: ClientBase, sourceId: string, tableId: number | null): Promise<boolean> {
  const { rows } = await db.query<{ paused: boolean }>(
    'SELECT paused FROM pipeline_controls WHERE source_id = $1 AND coalesce(table_id, 0) = coalesce($2::int, 0) FOR UPDATE',
    [sourceId, tableId],
  );
  return rows[0]?.paused ?? false;
}

/** An operator's pause or resume of a source (tableId null) or of one table, with who and why. */
export async function saveControl(db: ClientBase, sourceId: string, tableId: number | null, change: { readonly paused: boolean; readonly reason?: string; readonly requestedBy?: string }): Promise<void> {
  await db.query(
    `INSERT INTO pipeline_controls (source_id, table_id, paused, reason, requested_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (source_id, coalesce(table_id, 0))
     DO UPDATE SET paused = EXCLUDED.paused, reason = EXCLUDED.reason, requested_by = EXCLUDED.requested_by, updated_at = now()`,
    [sourceId, tableId, change.paused, change.reason ?? null, change.requestedBy ?? null],
  );
}
