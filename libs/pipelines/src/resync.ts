import { Pool } from 'pg';
import { CONTROL_CHANNEL, encodeControlNotice, findTableId, notify, requestCopies, requestStartOver, sourceTableIds } from '@philotes/buffer';
import { inTransaction } from '@philotes/db';
import { NotFoundError, OutOfBoundsError } from '@philotes/dead-letters';
import { ControlScope } from './pipeline-controls';

export interface ResyncRequest {
  /**
   * A whole source only: start it over with a new slot (a lost slot, a restored or moved cluster
   * whose LSNs are its own). Otherwise its tables are copied again at the slot's position.
   */
  readonly fromScratch?: boolean;
  readonly requestedBy?: string;
}

export interface ResyncResult {
  readonly source: string;
  readonly table?: string;
  /** The tables that will be copied again. */
  readonly tables: number;
  readonly fromScratch: boolean;
}

/**
 * Asks for a resync: the table's (or every table's of the source) rows are copied again under a
 * fresh snapshot while the rest of the source keeps its place, and the Iceberg table switches to
 * the copy in one snapshot. The reader plans it at its next start; the NOTIFY makes that now.
 * A table whose copy is already running is left to it.
 */
export async function requestResync(pool: Pool, scope: ControlScope, request: ResyncRequest): Promise<ResyncResult> {
  return inTransaction(pool, async (db) => {
    if (request.fromScratch && scope.table) throw new OutOfBoundsError('fromScratch', 'fromScratch starts a whole source over: resync the source, not one table');
    const tables = scope.table
      ? [await findTableId(db, scope.source, scope.table.schema, scope.table.name)].filter((id) => id !== undefined)
      : await sourceTableIds(db, scope.source);
    if (scope.table && tables.length === 0) throw new NotFoundError(`table ${scope.table.schema}.${scope.table.name} of source ${scope.source}`);
    if (request.fromScratch) {
      if (!(await requestStartOver(db, scope.source, request.requestedBy))) throw new NotFoundError(`source ${scope.source}`);
    } else {
      if (tables.length === 0) throw new NotFoundError(`source ${scope.source}`);
      await requestCopies(db, tables, request.requestedBy);
    }
    await notify(db, CONTROL_CHANNEL, encodeControlNotice(scope.source));
    return {
      source: scope.source,
      ...(scope.table ? { table: `${scope.table.schema}.${scope.table.name}` } : {}),
      tables: tables.length,
      fromScratch: request.fromScratch === true,
    };
  });
}
