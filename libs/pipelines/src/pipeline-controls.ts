import { Pool } from 'pg';
import { CONTROL_CHANNEL, clearTableFailures, encodeControlNotice } from '@philotes/buffer';
import { inTransaction } from '@philotes/db';
import { NotFoundError } from '@philotes/dead-letters';

/** What an operator pauses: a whole source, or one of its tables. */
export interface ControlScope {
  readonly source: string;
  readonly table?: { readonly schema: string; readonly name: string };
}

export interface ControlChange {
  readonly paused: boolean;
  readonly reason?: string;
  readonly requestedBy?: string;
}

export interface ControlResult {
  readonly source: string;
  readonly table?: string;
  readonly paused: boolean;
  /** False when it already was in that state (the request changed nothing but the reason). */
  readonly changed: boolean;
  /** A resume: the failed tables it brought back (their writers try them again). */
  readonly failuresCleared?: number;
}

/**
 * Pauses or resumes a source (its reader stops consuming and its tables stop being written) or one
 * table (only its writing stops; the reader keeps capturing it into the buffer). A resume also
 * brings back what failed in its scope (the table, or every table of the source). The row in
 * `pipeline_controls` is the truth; the NOTIFY, delivered at commit, makes readers and writers act
 * at once rather than at their next poll.
 */
export async function setPaused(pool: Pool, scope: ControlScope, change: ControlChange): Promise<ControlResult> {
  return inTransaction(pool, async (db) => {
    const tableId = await resolve(db, scope);
    const before = await db.query<{ paused: boolean }>(
      'SELECT paused FROM pipeline_controls WHERE source_id = $1 AND coalesce(table_id, 0) = coalesce($2::int, 0) FOR UPDATE',
      [scope.source, tableId],
    );
    await db.query(
      `INSERT INTO pipeline_controls (source_id, table_id, paused, reason, requested_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (source_id, coalesce(table_id, 0))
       DO UPDATE SET paused = EXCLUDED.paused, reason = EXCLUDED.reason, requested_by = EXCLUDED.requested_by, updated_at = now()`,
      [scope.source, tableId, change.paused, change.reason ?? null, change.requestedBy ?? null],
    );
    let failuresCleared: number | undefined;
    if (!change.paused) {
      const inScope = tableId !== null ? [tableId] : (await db.query<{ table_id: number }>('SELECT table_id FROM cdc_tables WHERE source_id = $1', [scope.source])).rows.map((row) => row.table_id);
      failuresCleared = await clearTableFailures(db, inScope);
    }
    await db.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, encodeControlNotice(scope.source)]);
    return {
      source: scope.source,
      ...(scope.table ? { table: `${scope.table.schema}.${scope.table.name}` } : {}),
      paused: change.paused,
      changed: (before.rows[0]?.paused ?? false) !== change.paused || (failuresCleared ?? 0) > 0,
      ...(failuresCleared !== undefined ? { failuresCleared } : {}),
    };
  });
}

/** The table's id (null for a whole source); unknown sources and tables are a 404. */
async function resolve(db: Pick<Pool, 'query'>, scope: ControlScope): Promise<number | null> {
  if (scope.table) {
    const { rows } = await db.query<{ table_id: number }>(
      'SELECT table_id FROM cdc_tables WHERE source_id = $1 AND schema_name = $2 AND table_name = $3',
      [scope.source, scope.table.schema, scope.table.name],
    );
    if (!rows[0]) throw new NotFoundError(`table ${scope.table.schema}.${scope.table.name} of source ${scope.source}`);
    return rows[0].table_id;
  }
  const { rows } = await db.query(
    `SELECT 1 FROM cdc_checkpoints WHERE source_id = $1 UNION ALL SELECT 1 FROM cdc_tables WHERE source_id = $1
     UNION ALL SELECT 1 FROM pipeline_instances WHERE source_id = $1 LIMIT 1`,
    [scope.source],
  );
  if (rows.length === 0) throw new NotFoundError(`source ${scope.source}`);
  return null;
}
