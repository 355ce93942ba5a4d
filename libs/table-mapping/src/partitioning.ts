import { ColumnSchema } from '@philotes/events';
import { acceptsType, formatTransform, NestedField, parseTransform, PartitionFieldRequest } from '@philotes/iceberg';
import { ClassifiedError, needsOperator } from '@philotes/retry';

/** A partition field as PHILOTES_ICEBERG_PARTITIONING names it: a source column and an Iceberg transform string. */
export interface ConfiguredPartitionField {
  readonly column: string;
  readonly transform: string;
}

/** Partitioning Philotes cannot apply to the table as configured (the table stops; the others go on). */
export class PartitioningError extends ClassifiedError {
  constructor(table: string, reason: string, action = 'change PHILOTES_ICEBERG_PARTITIONING for this table and restart the writer') {
    super(`table ${table}: ${reason}`, needsOperator('configuration', action));
  }
}

export interface PartitioningInput {
  readonly table: string;
  readonly mode: 'append' | 'upsert';
  /** The source columns of the schema version, with the field each lands in. */
  readonly placements: ReadonlyArray<{ readonly column: ColumnSchema; readonly field: NestedField }>;
  /** The fields equality deletes compare (upsert). */
  readonly keyFields: readonly NestedField[];
  /** This table's entry of PHILOTES_ICEBERG_PARTITIONING, when it has one (an empty list: unpartitioned). */
  readonly configured?: readonly ConfiguredPartitionField[];
  /** The existing table's default spec: without configuration it stands (the source's hint shapes new tables only). */
  readonly existing?: readonly PartitionFieldRequest[];
}

/**
 * The partition spec a table is written with. Configuration wins; else an existing table keeps
 * the spec it has (no evolution an operator did not ask for: not after an upgrade, not when the
 * source's partitions change their bounds); else a new table's column the source marks
 * range-partitioned (rangePartition) gets that time transform; else none.
 *
 * An upsert table can only be partitioned on key columns: an equality delete carries just the
 * key, and must be placed in the partition of the row it removes. PostgreSQL requires the
 * partition key in a partitioned table's primary key, so the source's hint always qualifies; a
 * hint that does not (a column kept as text, say) is not followed, since nobody asked for it.
 */
export function planPartitioning(input: PartitioningInput): PartitionFieldRequest[] {
  if (input.configured) {
    return input.configured.map((wanted) => {
      const placed = input.placements.find((p) => p.column.name === wanted.column);
      if (!placed) throw new PartitioningError(input.table, `the partition column ${wanted.column} is not a column of the table`);
      const problem = problemOf(input, placed.field, wanted.transform);
      if (problem) throw new PartitioningError(input.table, problem);
      return { sourceId: placed.field.id, transform: parseTransform(wanted.transform) };
    });
  }
  if (input.existing) return [...input.existing];
  return input.placements.flatMap(({ column, field }) =>
    column.rangePartition && problemOf(input, field, column.rangePartition) === undefined ? [{ sourceId: field.id, transform: parseTransform(column.rangePartition) }] : [],
  );
}

function problemOf(input: PartitioningInput, field: NestedField, transformText: string): string | undefined {
  const transform = parseTransform(transformText);
  if (!acceptsType(transform, field.type)) {
    return `the partition transform ${formatTransform(transform)} does not apply to column ${field.name} of Iceberg type ${typeof field.type === 'string' ? field.type : 'list'}`;
  }
  // void partitions nothing, so any column may carry it (Iceberg v1's way to drop a field).
  if (input.mode === 'upsert' && transform.kind !== 'void' && !input.keyFields.some((k) => k.id === field.id)) {
    return `it is an upsert table partitioned on ${field.name}, which is not part of its row key: an equality delete carries only the key, so it could not be placed in the partition of the row it removes`;
  }
  return undefined;
}

/** The key of a source table in WriterSettings.partitioning (names may hold dots: not `schema.table`). */
export function partitioningKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}
