import { ClientBase, Pool } from 'pg';
import { copyHoldsTableSql } from './copy-holds';

/** Why a table's backlog does not move: an operator paused it (or its source), or it failed. */
export type StoppedBy = 'paused' | 'failed';

/** A table whose writers stand still by decision or failure, and what it has piled up meanwhile. */
export interface StoppedTable {
  readonly tableId: number;
  readonly schema: string;
  readonly table: string;
  readonly stoppedBy: StoppedBy;
  /** Payload bytes stored and not yet applied. */
  readonly backlogBytes: number;
}

/** A source's unapplied payload, split by whether a writer may apply it now. */
export interface SourceBacklog {
  /** Bytes of the tables writers may apply now: what backpressure weighs. */
  readonly flowingBytes: number;
  /** Paused and failed tables: they must not hold the others back, so they are reported apart. */
  readonly stopped: readonly StoppedTable[];
}

/**
 * SQL: a table's unapplied payload bytes, from the stored volume less the applied bytes (see
 * migration 0005): O(1) per table however far behind its writers are. `v` and `p` are the
 * table's cdc_table_volume and cdc_writer_progress rows (either may be missing).
 */
export const BACKLOG_BYTES_SQL = 'greatest(0, coalesce(v.stored_bytes, 0) - coalesce(p.applied_bytes, 0))';

/** SQL: whether an operator paused the table or its whole source (`t` is its cdc_tables row). */
export const PAUSED_SQL = `EXISTS (SELECT 1 FROM pipeline_controls c
                   WHERE c.source_id = t.source_id AND (c.table_id IS NULL OR c.table_id = t.table_id) AND c.paused)`;

/** SQL: whether the table failed and waits for an operator (`t` is its cdc_tables row). */
export const FAILED_SQL = 'EXISTS (SELECT 1 FROM cdc_table_failures f WHERE f.table_id = t.table_id)';

/**
 * What backpressure needs of a source, in one query over its tables:
 *
 * | table                      | counts towards backpressure | reported as stopped |
 * | -------------------------- | --------------------------- | ------------------- |
 * | a copy holds it            | no (its events wait for the copy) | no            |
 * | failed                     | no                          | yes, failed         |
 * | paused (table or source)   | no                          | yes, paused         |
 * | otherwise                  | yes                         | no                  |
 */
export async function sourceBacklog(db: ClientBase | Pool, sourceId: string): Promise<SourceBacklog> {
  const { rows } = await db.query<{ table_id: number; schema_name: string; table_name: string; backlog: string; held: boolean; paused: boolean; failed: boolean }>(
    `SELECT t.table_id, t.schema_name, t.table_name, ${BACKLOG_BYTES_SQL} AS backlog,
            ${copyHoldsTableSql('t.table_id')} AS held, ${PAUSED_SQL} AS paused, ${FAILED_SQL} AS failed
       FROM cdc_tables t
       LEFT JOIN cdc_table_volume v ON v.table_id = t.table_id
       LEFT JOIN cdc_writer_progress p ON p.table_id = t.table_id
      WHERE t.source_id = $1
      ORDER BY t.table_id`,
    [sourceId],
  );
  let flowingBytes = 0;
  const stopped: StoppedTable[] = [];
  for (const row of rows) {
    const bytes = Number(row.backlog);
    if (row.held) continue;
    if (row.failed || row.paused) stopped.push({ tableId: row.table_id, schema: row.schema_name, table: row.table_name, stoppedBy: row.failed ? 'failed' : 'paused', backlogBytes: bytes });
    else flowingBytes += bytes;
  }
  return { flowingBytes, stopped };
}
