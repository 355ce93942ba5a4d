/**
 * How a column's values are parsed, encoded and mapped to Iceberg. Resolved once per column from
 * its type OID (domains resolve to their base type). `text` also covers types kept as their text
 * form because nothing better exists (money, inet, xml, ranges, composites, ...).
 */
export type ValueKind =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'enum'
  | 'uuid'
  | 'json'
  | 'jsonb'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timetz'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'array';

/** A column of a source table, as recorded in `cdc_schema_history`. */
export interface ColumnSchema {
  readonly name: string;
  readonly typeOid: number;
  /** PostgreSQL's atttypmod: numeric precision/scale, varchar length, time precision; -1 when none. */
  readonly typeModifier: number;
  /** The type as an operator reads it (`int4`, `numeric`, `public.mood`, `_text`). */
  readonly typeName: string;
  readonly kind: ValueKind;
  /** For arrays: the element's kind and type. */
  readonly element?: { readonly kind: ValueKind; readonly typeOid: number; readonly typeName: string };
  /** Part of the replica identity (primary key, the replica-identity index, or every column for FULL). */
  readonly key: boolean;
  /** Part of the table's primary key (known separately: REPLICA IDENTITY FULL flags every column as key). */
  readonly primaryKey?: boolean;
  /** Kept as text because Philotes has no exact mapping for the type; logged once as a warning. */
  readonly textFallback?: boolean;
  /**
   * The source table is range-partitioned on this column with bounds aligned to this unit in UTC:
   * the Iceberg table is partitioned by the same time transform unless configured otherwise.
   */
  readonly rangePartition?: 'year' | 'month' | 'day' | 'hour';
}

/** numeric(p,s) from its type modifier; undefined for an unconstrained numeric. */
export function numericPrecision(typeModifier: number): { precision: number; scale: number } | undefined {
  if (typeModifier < 4) return undefined;
  const packed = typeModifier - 4;
  const scale = packed & 0x7ff;
  // Scale is an 11-bit signed field (PostgreSQL 15 allows negative scales).
  return { precision: (packed >> 16) & 0xffff, scale: scale > 1023 ? scale - 2048 : scale };
}
