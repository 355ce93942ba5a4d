/** Where a dead letter stands. 'superseded': a later change of its key was written, so it must not come back. */
export const DEAD_LETTER_STATUSES = ['pending', 'replaying', 'replayed', 'discarded', 'superseded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** What an operator narrows dead letters by. Every field is optional; all given must match. */
export interface DeadLetterFilter {
  readonly source?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly errorClass?: string;
  readonly status?: DeadLetterStatus;
  /** Created at or after. */
  readonly from?: Date;
  /** Created before. */
  readonly to?: Date;
}

/**
 * The filter as SQL conditions over `cdc_dead_letters d JOIN cdc_tables t`. Values only ever
 * travel as parameters (appended to `params`); the SQL text is fixed by which fields are present.
 */
export function filterConditions(filter: DeadLetterFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    conditions.push(sql(`$${params.length}`));
  };
  if (filter.source !== undefined) add((p) => `t.source_id = ${p}`, filter.source);
  if (filter.schema !== undefined) add((p) => `t.schema_name = ${p}`, filter.schema);
  if (filter.table !== undefined) add((p) => `t.table_name = ${p}`, filter.table);
  if (filter.errorClass !== undefined) add((p) => `d.error_kind = ${p}`, filter.errorClass);
  if (filter.status !== undefined) add((p) => `d.status = ${p}`, filter.status);
  if (filter.from !== undefined) add((p) => `d.created_at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `d.created_at < ${p}`, filter.to);
  return conditions;
}

/** `WHERE a AND b` or nothing. */
export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
