import { Pool } from 'pg';
import { DEAD_LETTER_STATUSES, DeadLetterCounts, DeadLetterDetail, DeadLetterFilter, DeadLetterPage, DeadLetterStats, PostgresDeadLetterStore } from '@philotes/buffer';
import { PayloadReader } from '@philotes/events';
import { rowToJson } from '@philotes/pg-types';
import { NotFoundError } from './dead-letter-errors';

/** Reading dead letters for operators: pages, one whole, and counts. */
export class DeadLetterQueries {
  /** The writer's decoder: an operator sees each value as the writer read it. */
  private readonly payloads = new PayloadReader();

  private readonly store: PostgresDeadLetterStore;

  constructor(pool: Pool) {
    this.store = new PostgresDeadLetterStore(pool);
  }

  /** Newest first, `limit` per page; `after` is the previous page's cursor (keyset, stable under inserts). */
  async list(filter: DeadLetterFilter, page: { readonly limit: number; readonly after?: string }): Promise<DeadLetterPage> {
    return this.store.list(filter, page);
  }

  async get(id: string): Promise<DeadLetterDetail> {
    const row = await this.store.get(id);
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
    const rows = await this.store.counts(filter);
    const total = emptyCounts();
    const byTable = new Map<string, { source: string; schema: string; table: string; counts: Record<string, number> }>();
    const byError = new Map<string, Record<string, number>>();
    for (const row of rows) {
      const n = row.count;
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
