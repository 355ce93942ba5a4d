import { ColumnSchema } from '@philotes/events';
import { IcebergSchema, IcebergType, isList, NestedField, PartitionFieldRequest } from '@philotes/iceberg';
import { ClassifiedError, needsOperator } from '@philotes/retry';
import { ConfiguredPartitionField, planPartitioning } from './partitioning';
import { converterFor, Converter, decimalHolds, icebergTypeFor, isPromotion, Unrepresentable } from './type-mapping';

export type TableMode = 'append' | 'upsert';

/** The change-log columns of an append table, in this order after the source columns. */
export const CDC_COLUMNS = ['_cdc_op', '_cdc_lsn', '_cdc_commit_ts', '_cdc_seq'] as const;
const CDC_TYPES: Readonly<Record<(typeof CDC_COLUMNS)[number], IcebergType>> = {
  _cdc_op: 'string',
  _cdc_lsn: 'long',
  _cdc_commit_ts: 'timestamptz',
  _cdc_seq: 'long',
};

/** Where a source column of one schema version lands, and how its values get there. */
export interface ColumnPlacement {
  readonly column: ColumnSchema;
  readonly field: NestedField;
  readonly convert: Converter;
}

/** How one schema version of a source table maps onto the Iceberg table. */
export interface TableLayout {
  readonly mode: TableMode;
  /** The table schema (without id); `changed` when it differs from the table's current one. */
  readonly schema: Omit<IcebergSchema, 'schema-id'>;
  readonly changed: boolean;
  /** One per source column, in the version's order. */
  readonly placements: readonly ColumnPlacement[];
  /** Positions (in the version's columns) of the columns that identify a row for upserts. */
  readonly keyPositions: readonly number[];
  /** The fields equality deletes compare. */
  readonly keyFields: readonly NestedField[];
  readonly cdcFields?: Readonly<Record<(typeof CDC_COLUMNS)[number], NestedField>>;
  /** The partition spec to write with (see planPartitioning); empty when unpartitioned. */
  readonly partitioning: readonly PartitionFieldRequest[];
}

/** A schema change Philotes refuses to apply silently (the table stops; the message says why). */
export class IncompatibleSchemaError extends ClassifiedError {
  constructor(table: string, reason: string, action = 'recreate the Iceberg table (drop it from the catalog) or revert the source change') {
    super(`table ${table}: ${reason}`, needsOperator('schema', action));
  }
}

export interface LayoutInput {
  readonly table: string;
  readonly columns: readonly ColumnSchema[];
  readonly mode: TableMode;
  /** The table's current schema and highest field id, or undefined when creating it. */
  readonly current?: IcebergSchema;
  readonly lastColumnId: number;
  /** Columns written as text whatever their type (PHILOTES_ICEBERG_COLUMN_TYPES). */
  readonly asText: ReadonlySet<string>;
  readonly unrepresentable: Unrepresentable;
  /** The table's entry of PHILOTES_ICEBERG_PARTITIONING, if any. */
  readonly partitioning?: readonly ConfiguredPartitionField[];
  /** The existing table's default partition spec (see planPartitioning). */
  readonly currentPartitioning?: readonly PartitionFieldRequest[];
}

/** Columns that identify a row: the primary key, else (REPLICA IDENTITY FULL) every comparable column. */
export function identityColumns(columns: readonly ColumnSchema[]): number[] {
  const primary = columns.flatMap((c, i) => (c.primaryKey ? [i] : []));
  if (primary.length > 0) return primary;
  const full = columns.length > 0 && columns.every((c) => c.key);
  if (!full) return [];
  // Equality deletes cannot compare floating point or lists.
  return columns.flatMap((c, i) => (c.kind === 'float4' || c.kind === 'float8' || c.kind === 'array' ? [] : [i]));
}

/** The mode a table gets: per-table setting, global setting, or (auto) upsert when rows are identifiable. */
export function modeFor(table: string, columns: readonly ColumnSchema[], global: 'auto' | TableMode, perTable: ReadonlyMap<string, TableMode>): TableMode {
  const explicit = perTable.get(table) ?? (global === 'auto' ? undefined : global);
  if (explicit === 'upsert' && identityColumns(columns).length === 0) {
    throw new IncompatibleSchemaError(table, 'upsert mode needs a primary key or REPLICA IDENTITY FULL');
  }
  return explicit ?? (identityColumns(columns).length > 0 ? 'upsert' : 'append');
}

/**
 * Maps a source schema version onto the table, evolving it when needed (spec, Schema Evolution):
 * - a new column becomes a new optional field with a new id;
 * - a widened type is promoted in place (int→long, real→double, numeric precision up);
 * - any other type change renames the old field to `<name>__before_<n>` (its data stays readable)
 *   and adds a new field under the column's name — never a silently reinterpreted value;
 * - a dropped column keeps its field; new rows hold NULL there.
 * Field ids are never reused.
 */
export function planLayout(input: LayoutInput): TableLayout {
  const creating = !input.current;
  let nextId = input.lastColumnId + 1;
  const fields: NestedField[] = input.current ? [...input.current.fields] : [];
  let changed = creating;
  const keyPositions = identityColumns(input.columns);
  const primaryKeys = input.columns.some((c) => c.primaryKey);

  const withIds = (type: IcebergType): IcebergType => (isList(type) ? { ...type, 'element-id': nextId++ } : type);
  const placements = input.columns.map((column, position) => {
    const wanted = icebergTypeFor(column, input.asText.has(column.name));
    const index = fields.findIndex((f) => f.name === column.name);
    let field: NestedField;
    if (index < 0) {
      const required = creating && input.mode === 'upsert' && primaryKeys && keyPositions.includes(position);
      field = { id: nextId++, name: column.name, required, type: withIds(wanted) };
      fields.push(field);
      changed = true;
    } else if (sameType(fields[index].type, wanted) || decimalHolds(fields[index].type, wanted)) {
      field = fields[index];
    } else if (!isList(fields[index].type) && !isList(wanted) && isPromotion(fields[index].type, wanted)) {
      field = { ...fields[index], type: wanted };
      fields[index] = field;
      changed = true;
    } else {
      let suffix = 1;
      while (fields.some((f) => f.name === `${column.name}__before_${suffix}`)) suffix++;
      fields[index] = { ...fields[index], name: `${column.name}__before_${suffix}`, required: false };
      field = { id: nextId++, name: column.name, required: false, type: withIds(wanted) };
      fields.push(field);
      changed = true;
    }
    return { column, field, convert: converterFor(column, field.type, input.unrepresentable, `${input.table}.${column.name}`) };
  });

  let cdcFields: TableLayout['cdcFields'];
  if (input.mode === 'append') {
    // A source column of such a name would be overwritten by the change log's own values.
    const clash = input.columns.find((c) => (CDC_COLUMNS as readonly string[]).includes(c.name));
    if (clash) {
      throw new IncompatibleSchemaError(input.table, `its column ${clash.name} has the name of a change-log column append mode adds (${CDC_COLUMNS.join(', ')})`, 'rename the source column, or write the table in upsert mode (PHILOTES_ICEBERG_TABLE_MODES) if it has a key');
    }
    const found = Object.fromEntries(
      CDC_COLUMNS.map((name) => {
        let field = fields.find((f) => f.name === name);
        if (!field) {
          field = { id: nextId++, name, required: false, type: CDC_TYPES[name] };
          fields.push(field);
          changed = true;
        }
        return [name, field];
      }),
    ) as Record<(typeof CDC_COLUMNS)[number], NestedField>;
    cdcFields = found;
  }

  const keyFields = keyPositions.map((p) => placements[p].field);
  const identifierIds = input.mode === 'upsert' && primaryKeys ? keyFields.map((f) => f.id) : [];
  const previousIds = input.current?.['identifier-field-ids'] ?? [];
  if (!creating && previousIds.length > 0 && identifierIds.join(',') !== [...previousIds].join(',')) {
    throw new IncompatibleSchemaError(input.table, 'the primary key changed');
  }
  if (identifierIds.some((id) => !fields.find((f) => f.id === id)?.required)) {
    throw new IncompatibleSchemaError(input.table, 'a primary-key column was added after the table was created, so its field is optional');
  }
  return {
    mode: input.mode,
    schema: { type: 'struct', ...(identifierIds.length > 0 ? { 'identifier-field-ids': identifierIds } : {}), fields },
    changed,
    placements,
    keyPositions,
    keyFields,
    ...(cdcFields ? { cdcFields } : {}),
    partitioning: planPartitioning({
      table: input.table,
      mode: input.mode,
      placements,
      keyFields,
      ...(input.partitioning ? { configured: input.partitioning } : {}),
      ...(input.currentPartitioning ? { existing: input.currentPartitioning } : {}),
    }),
  };
}

function sameType(a: IcebergType, b: IcebergType): boolean {
  if (isList(a) && isList(b)) return a['element-required'] === b['element-required'] && sameType(a.element, b.element);
  return a === b;
}
