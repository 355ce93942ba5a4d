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
