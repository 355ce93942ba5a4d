import { TableMetadata } from './metadata';
import { acceptsType, applyTransform, formatTransform, parseTransform, resultType, Transform } from './partitioning/transforms';
import { IcebergSchema, isList, NestedField, PrimitiveType } from './schema';

export type SortDirection = 'asc' | 'desc';
export type NullOrder = 'nulls-first' | 'nulls-last';

/** A sort field as the metadata JSON holds it (spec, "Sort Orders"): a transform of a source column. */
export interface SortField {
  readonly transform: string;
  readonly 'source-id': number;
  readonly direction: SortDirection;
  readonly 'null-order': NullOrder;
}

export interface SortOrder {
  readonly 'order-id': number;
  readonly fields: readonly SortField[];
}

/** A sort field as an operator configures it: a column by name, or a transform of it (`bucket[16]`). */
export interface SortColumn {
  readonly column: string;
  readonly transform?: string;
  readonly direction: SortDirection;
  readonly nullOrder: NullOrder;
}

/** Order id 0 is reserved for "unsorted" (spec). */
export const UNSORTED: SortOrder = { 'order-id': 0, fields: [] };

/** The sort fields of `columns` against a schema; `problems` names each column that cannot be sorted on. */
export function resolveSortOrder(columns: readonly SortColumn[], schema: Pick<IcebergSchema, 'fields'>): { fields: SortField[]; problems: string[] } {
  const fields: SortField[] = [];
  const problems: string[] = [];
  for (const column of columns) {
    const field = schema.fields.find((f) => f.name === column.column);
    if (!field) problems.push(`sort column ${JSON.stringify(column.column)} is not a column of the table`);
    else if (isList(field.type)) problems.push(`sort column ${JSON.stringify(column.column)} is a list; only primitive columns can be sorted on`);
    else {
      const transform = parseTransform(column.transform ?? 'identity');
      if (!acceptsType(transform, field.type)) problems.push(`sort field ${formatTransform(transform)}(${JSON.stringify(column.column)}) does not apply to a column of type ${JSON.stringify(field.type)}`);
      else fields.push({ transform: formatTransform(transform), 'source-id': field.id, direction: column.direction, 'null-order': column.nullOrder });
    }
  }
  return { fields, problems };
}

export function defaultSortOrder(metadata: Pick<TableMetadata, 'sort-orders' | 'default-sort-order-id'>): SortOrder {
  return (metadata['sort-orders'].find((o) => o['order-id'] === metadata['default-sort-order-id']) as SortOrder | undefined) ?? UNSORTED;
}

/**
 * The order a writer can write files in: the table's default order when it knows every field's
 * transform, else unsorted (an order another engine set with a transform we do not compute, such
 * as a future one; files written unsorted say so with order id 0, which is always true).
 */
export function writableSortOrder(metadata: Pick<TableMetadata, 'sort-orders' | 'default-sort-order-id'>): SortOrder {
  const order = defaultSortOrder(metadata);
  return order.fields.every((f) => knownTransform(f.transform)) ? order : UNSORTED;
}

function knownTransform(text: string): boolean {
  try {
    parseTransform(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The metadata with `fields` as its default sort order: an order with equal fields is reused, else
 * a new one gets the next id (as partition specs evolve: old files keep the id they were written with).
 */
export function withSortOrder(metadata: TableMetadata, fields: readonly SortField[]): TableMetadata {
  const orders = metadata['sort-orders'] as readonly SortOrder[];
  const same = orders.find((o) => sameFields(o.fields, fields));
  if (same) return same['order-id'] === metadata['default-sort-order-id'] ? metadata : { ...metadata, 'default-sort-order-id': same['order-id'] };
  const orderId = Math.max(0, ...orders.map((o) => o['order-id'])) + 1;
  return { ...metadata, 'sort-orders': [...orders, { 'order-id': orderId, fields: [...fields] }], 'default-sort-order-id': orderId };
}

function sameFields(a: readonly SortField[], b: readonly SortField[]): boolean {
  return a.length === b.length && a.every((f, i) => f.transform === b[i].transform && f['source-id'] === b[i]['source-id'] && f.direction === b[i].direction && f['null-order'] === b[i]['null-order']);
}

type Compare = (a: unknown, b: unknown) => number;

/**
 * Rows (aligned with `fields`) in the order, stable for equal keys. Sort fields whose column is not
 * among `fields` are skipped (a file of some columns only).
 */
export function sortRows(rows: readonly unknown[][], fields: readonly NestedField[], order: SortOrder): unknown[][] {
  const keys: Array<{ index: number; value: (v: unknown) => unknown; compare: Compare }> = [];
  for (const sortField of order.fields) {
    const index = fields.findIndex((f) => f.id === sortField['source-id']);
    if (index < 0) continue;
    const transform = parseTransform(sortField.transform);
    const source = fields[index].type as PrimitiveType;
    keys.push({ index, value: sortValue(transform, source), compare: rowComparator(resultType(transform, source), sortField) });
  }
  if (keys.length === 0) return [...rows];
  // Each row's sort key computed once (a bucket hash per comparison would cost n log n hashes).
  const keyed = rows.map((row) => ({ row, key: keys.map((k) => k.value(row[k.index])) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = keys[i].compare(a.key[i], b.key[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.row);
}

function sortValue(transform: Transform, source: PrimitiveType): (value: unknown) => unknown {
  return transform.kind === 'identity' ? (value) => value : (value) => applyTransform(transform, source, value);
}

function rowComparator(type: PrimitiveType, sortField: SortField): Compare {
  const compare = valueComparator({ type });
  const sign = sortField.direction === 'asc' ? 1 : -1;
  const nullsFirst = sortField['null-order'] === 'nulls-first';
  return (a, b) => {
    const aNull = a === null || a === undefined;
    const bNull = b === null || b === undefined;
    if (aNull || bNull) return aNull && bNull ? 0 : aNull === nullsFirst ? -1 : 1;
    return sign * compare(a, b);
  };
}

/**
 * Ascending order of non-null values per the spec's "Sorting": strings by Unicode code point
 * (UTF-8 byte order, which UTF-16 code units do not give past U+FFFF), binary as unsigned bytes,
 * floats -Infinity < -x < -0 < 0 < x < Infinity < NaN, decimals by their unscaled value
 * (one scale per column), timestamps and longs as integers (number or bigint alike).
 */
export function valueComparator(field: Pick<NestedField, 'type'>): Compare {
  const type = field.type;
  if (typeof type !== 'string') throw new Error('only primitive columns can be sorted on');
  switch (type) {
    case 'boolean':
      return (a, b) => Number(a) - Number(b);
    case 'float':
    case 'double':
      return (a, b) => floatOrder(a as number, b as number);
    case 'string':
      return (a, b) => codePointOrder(a as string, b as string);
    case 'binary':
    case 'uuid':
      return (a, b) => byteOrder(a as Uint8Array, b as Uint8Array);
    default:
      // int, date, long, time, timestamp(tz) and decimals: numbers or bigints, comparable across both.
      return (a, b) => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
  }
}

/**
 * Java's Double.compare, which Iceberg's Java comparators use: -0 before 0, NaN after everything
 * (the spec's -NaN first cannot be honoured: JavaScript does not keep a NaN's sign bit reliably).
 */
function floatOrder(a: number, b: number): number {
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return Number(aNaN) - Number(bNaN);
  if (a !== b) return a < b ? -1 : 1;
  if (a === 0) return Number(!Object.is(a, -0)) - Number(!Object.is(b, -0));
  return 0;
}

/** UTF-16 code units compared as code points: surrogates (U+D800–DFFF) stand for code points above U+FFFF. */
export function codePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

function byteOrder(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
