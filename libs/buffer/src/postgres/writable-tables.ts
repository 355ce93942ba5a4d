import { Pool } from 'pg';
import { withIndexOrder } from '@philotes/db';
import { TableRef } from '../event-forms';
import { PAUSED_SQL } from './buffer-depth';
import { copyHoldsTableSql } from './copy-holds';

/** The tables the readers know, split into those a writer may work on now and those an operator paused. */
export interface TableAvailability {
  readonly writable: TableRef[];
  /** Paused by an operator (the table, or its whole source), as `source:schema.table`. */
  readonly paused: string[];
  /** Failed (see cdc_table_failures): left alone until an operator resumes or resyncs them. */
  readonly failed: Array<{ readonly source: string; readonly table: string; readonly kind: string }>;
}

/**
 * The source tables a writer may work on now: every table the readers know, except those a copy
 * holds (copyHoldsTableSql), those an operator paused (the table, or its whole source) and those
 * that failed.
 */
export async function writableTables(pool: Pool): Promise<TableAvailability> {
  const { rows } = await pool.query<{ table_id: number; source_id: string; schema_name: string; table_name: string; copying: boolean; paused: boolean; failed_kind: string | null }>(
    `SELECT t.table_id, t.source_id, t.schema_name, t.table_name,
            ${copyHoldsTableSql('t.table_id')} AS copying, ${PAUSED_SQL} AS paused,
            (SELECT f.error_kind FROM cdc_table_failures f WHERE f.table_id = t.table_id) AS failed_kind
       FROM cdc_tables t
      ORDER BY t.table_id`,
  );
  return {
    writable: rows
      .filter((row) => !row.copying && !row.paused && row.failed_kind === null)
      .map((row) => ({ tableId: row.table_id, sourceId: row.source_id, schema: row.schema_name, table: row.table_name })),
    paused: rows.filter((row) => row.paused).map((row) => `${row.source_id}:${row.schema_name}.${row.table_name}`),
    failed: rows.filter((row) => row.failed_kind !== null).map((row) => ({ source: row.source_id, table: `${row.schema_name}.${row.table_name}`, kind: row.failed_kind! })),
  };
}

/**
 * Seconds since the commit of each table's oldest unapplied event (0 when caught up): the
 * writer's lag, measured from the source's clock as the events carry it.
 */
export async function tableLag(pool: Pool, tableIds: readonly number[]): Promise<Map<number, number>> {
  if (tableIds.length === 0) return new Map();
  const { rows } = await withIndexOrder(pool, (client) => client.query<{ table_id: number; lag: number | null }>(
    `SELECT t.id AS table_id,
            extract(epoch FROM clock_timestamp() - (
              SELECT e.commit_ts FROM cdc_events e
               WHERE e.table_id = t.id
                 AND (e.commit_lsn, e.seq) > (coalesce(p.applied_lsn, '0/0'::pg_lsn), coalesce(p.applied_seq, -9007199254740991))
               ORDER BY e.commit_lsn, e.seq LIMIT 1))::float8 AS lag
       FROM unnest($1::int[]) AS t(id) LEFT JOIN cdc_writer_progress p ON p.table_id = t.id`,
    [tableIds],
  ));
  return new Map(rows.map((row) => [row.table_id, Math.max(0, row.lag ?? 0)]));
}
