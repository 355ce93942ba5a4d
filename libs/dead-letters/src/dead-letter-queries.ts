import { Pool } from 'pg';
import { ColumnSchema, PayloadReader } from '@philotes/events';
import { JsonValue, rowToJson } from '@philotes/pg-types';
import { NotFoundError } from './dead-letter-errors';
import { DEAD_LETTER_STATUSES, DeadLetterFilter, filterConditions, whereClause } from './dead-letter-filter';
import { DeadLetterCounts, DeadLetterDetail, DeadLetterPage, DeadLetterStats, DeadLetterSummary, SUMMARY_COLUMNS } from './dead-letter-views';

/** Reading dead letters for operators: pages, one whole, and counts. */
export class DeadLetterQueries {
  /** The writer's decoder: an operator sees each value as the writer read it. */
  private readonly payloads = new PayloadReader();

  constructor(private readonly pool: Pool) {}

  /** Newest first, `limit` per page; `after` is the previous page's cursor (keyset, stable under inserts). */
  async list(filter: DeadLetterFilter, page: { readonly limit: number; readonly after?: string }): Promise<DeadLetterPage> {
    const params: unknown[] = [];
    const conditions = filterConditions(filter, params);
    if (page.after !== undefined) {
      params.push(page.after);
      conditions.push(`d.id < $${params.length}::bigint`);
    }
    params.push(page.limit + 1);
    const { rows } = await this.pool.query<DeadLetterSummary>(
      `SELECT ${SUMMARY_COLUMNS} FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
        ${whereClause(conditions)} ORDER BY d.id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, page.limit);
    return rows.length > page.limit ? { items, nextCursor: items[items.length - 1].id } : { items };
  }

  async get(id: string): Promise<DeadLetterDetail> {
    const { rows } = await this.pool.query<DeadLetterSummary & { payload: Buffer; history: JsonValue[]; columns: ColumnSchema[] | null }>(
      `SELECT ${SUMMARY_COLUMNS}, d.payload, d.history, h.columns
         FROM cdc_dead_letters d
         JOIN cdc_tables t ON t.table_id = d.table_id
         LEFT JOIN cdc_schema_history h ON h.table_id = d.table_id AND h.version = d.schema_version
        WHERE d.id = $1::bigint`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError(`dead letter ${id}`);
    const { payload, history, columns, ...summary } = row;
    const known = columns ?? [];
    const decoded = this.payloads.read(payload, known);
    return {
      ...summary,
      columns: known.map((c) => ({ name: c.name, type: c.typeName, key: c.key })),
      payload: {
        ...(decoded.before ? { before: rowToJson(known, decoded.before) } : {}),
        ...(decoded.after ? { after: rowToJson(known, decoded.after) } : {}),
        beforeIsKeyOnly: decoded.beforeIsKeyOnly ?? false,
        ...(decoded.oversized !== undefined ? { oversizedBytes: decoded.oversized } : {}),
      },
      history,
    };
  }

  /** Counts by status: overall, per table and per error class, within the filter (status aside). */
  async stats(filter: Omit<DeadLetterFilter, 'status'>): Promise<DeadLetterStats> {
    const params: unknown[] = [];
    const where = whereClause(filterConditions(filter, params));
    const { rows } = await this.pool.query<{ source: string; schema: string; table: string; errorClass: string; status: string; count: string }>(
      `SELECT t.source_id AS source, t.schema_name AS schema, t.table_name AS "table", d.error_kind AS "errorClass", d.status, count(*)::text AS count
         FROM cdc_dead_letters d JOIN cdc_tables t ON t.table_id = d.table_id
         ${where}
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
      params,
    );
    const total = emptyCounts();
    const byTable = new Map<string, { source: string; schema: string; table: string; counts: Record<string, number> }>();
    const byError = new Map<string, Record<string, number>>();
    for (const row of rows) {
      const n = Number(row.count);
      const tableKey = JSON.stringify([row.source, row.schema, row.table]);
      if (!byTable.has(tableKey)) byTable.set(tableKey, { source: row.source, schema: row.schema, table: row.table, counts: emptyCounts() });
      if (!byError.has(row.errorClass)) byError.set(row.errorClass, emptyCounts());
      for (const counts of [total, byTable.get(tableKey)!.counts, byError.get(row.errorClass)!]) {
        counts[row.status] += n;
        counts.total += n;
      }
    }
    return {
      total: total as unknown as DeadLetterCounts,
      byTable: [...byTable.values()].map(({ counts, ...table }) => ({ ...table, ...(counts as unknown as DeadLetterCounts) })),
      byErrorClass: [...byError.entries()].map(([errorClass, counts]) => ({ errorClass, ...(counts as unknown as DeadLetterCounts) })),
    };
  }
}

function emptyCounts(): Record<string, number> {
  return Object.fromEntries([...DEAD_LETTER_STATUSES, 'total'].map((status) => [status, 0]));
}
