import { Pool, PoolClient } from 'pg';
import { clearTableFailures, CONTROL_CHANNEL, encodeControlNotice, findTableId, lockControl, notify, saveControl, sourceKnown, sourceTableIds } from '@philotes/buffer';
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
    const wasPaused = await lockControl(db, scope.source, tableId);
    await saveControl(db, scope.source, tableId, change);
    let failuresCleared: number | undefined;
    if (!change.paused) {
      const inScope = tableId !== null ? [tableId] : await sourceTableIds(db, scope.source);
      failuresCleared = await clearTableFailures(db, inScope);
    }
    await notify(db, CONTROL_CHANNEL, encodeControlNotice(scope.source));
    return {
      source: scope.source,
      ...(scope.table ? { table: `${scope.table.schema}.${scope.table.name}` } : {}),
      paused: change.paused,
      changed: wasPaused !== change.paused || (failuresCleared ?? 0) > 0,
      ...(failuresCleared !== undefined ? { failuresCleared } : {}),
    };
  });
}

/** The table's id (null for a whole source); unknown sources and tables are a 404. */
async function resolve(db: PoolClient, scope: ControlScope): Promise<number | null> {
  if (scope.table) {
    const tableId = await findTableId(db, scope.source, scope.table.schema, scope.table.name);
    if (tableId === undefined) throw new NotFoundError(`table ${scope.table.schema}.${scope.table.name} of source ${scope.source}`);
    return tableId;
  }
  if (!(await sourceKnown(db, scope.source))) throw new NotFoundError(`source ${scope.source}`);
  return null;
}
