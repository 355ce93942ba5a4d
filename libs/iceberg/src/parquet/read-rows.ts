import * as arrow from 'apache-arrow';
import { decimalParts, IcebergType, isList, NestedField } from '../schema';
import { readParquetFile } from './parquet-file';

/**
 * A data file's rows in the column form the writer uses (see arrow-columns), for `fields` of the
 * table's current schema. Columns are found by Iceberg field id, never by name — a renamed field
 * keeps its id, and a new field may reuse an old name. A field the file does not have is NULL
 * (it was added later); a promoted field is widened (int → long). Int64-backed values (long,
 * time, timestamps) are read from the column buffers, exact to the microsecond.
 */
export function readRows(bytes: Uint8Array, fields: readonly NestedField[]): unknown[][] {
  return rowsOf(readParquetFile(bytes), fields);
}

/**
 * Like {@link readRows} for the few columns of `fields` (key columns, for compaction planning):
 * the Parquet reader is asked for those columns only, by their current names (parquet-wasm 0.8
 * still decodes the others), and only they become JS values. Columns are checked by field id; a
 * file whose columns were since renamed is read whole.
 */
export function readColumns(bytes: Uint8Array, fields: readonly NestedField[]): unknown[][] {
  let table: arrow.Table;
  try {
    table = readParquetFile(bytes, fields.map((f) => f.name));
  } catch {
    return readRows(bytes, fields);
  }
  const ids = new Set(table.schema.fields.map((field) => Number(field.metadata.get('PARQUET:field_id'))));
  return fields.every((f) => ids.has(f.id)) ? rowsOf(table, fields) : readRows(bytes, fields);
}

function rowsOf(table: arrow.Table, fields: readonly NestedField[]): unknown[][] {
  const byId = new Map<number, number>();
  table.schema.fields.forEach((field, index) => {
    const id = Number(field.metadata.get('PARQUET:field_id'));
    if (Number.isInteger(id)) byId.set(id, index);
  });
  const rows = Array.from({ length: table.numRows }, () => new Array<unknown>(fields.length).fill(null));
  fields.forEach((field, c) => {
    const index = byId.get(field.id);
    if (index === undefined) return;
    const vector = table.getChildAt(index)!;
    let row = 0;
    for (const data of vector.data) {
      for (let i = 0; i < data.length; i++, row++) {
        if (!data.getValid(i)) continue;
        rows[row][c] = cell(data, i, field.type);
      }
    }
  });
  return rows;
}

function cell(data: arrow.Data, i: number, type: IcebergType): unknown {
  if (isList(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const child = data.children[0];
    const items: unknown[] = [];
    for (let j = offsets[data.offset + i]; j < offsets[data.offset + i + 1]; j++) items.push(child.getValid(j) ? cell(child, j, type.element) : null);
    return items;
  }
  if (decimalParts(type)) {
    const words = data.values as Uint32Array;
    const start = (data.offset + i) * 4;
    let bits = 0n;
    for (let w = 3; w >= 0; w--) bits = (bits << 32n) | BigInt(words[start + w]);
    return BigInt.asIntN(128, bits);
  }
  const at = data.offset + i;
  switch (type) {
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return int64(data, at);
    case 'int':
    case 'date':
    case 'float':
    case 'double':
      return Number((data.values as ArrayLike<number | bigint>)[at]);
    case 'boolean':
      return ((data.values as Uint8Array)[at >> 3] & (1 << (at & 7))) !== 0;
    case 'string':
    case 'binary':
    case 'uuid': {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = (data.values as Uint8Array).subarray(offsets[at], offsets[at + 1]);
      return type === 'string' ? Buffer.from(bytes).toString('utf8') : Uint8Array.from(bytes);
    }
    default:
      throw new Error(`cannot read Iceberg type ${String(type)}`);
  }
}

/** An Int64 (or, for a file written before an int → long promotion, Int32) cell as a bigint. */
function int64(data: arrow.Data, at: number): bigint {
  const values = data.values as BigInt64Array | Int32Array;
  if (values instanceof BigInt64Array) return values[at];
  // Int32-backed: an int column promoted to long.
  if (data.type.typeId === arrow.Type.Int && (data.type as arrow.Int).bitWidth === 32) return BigInt(values[at]);
  // Older apache-arrow layouts keep 64-bit values as pairs of 32-bit words.
  return (BigInt(values[at * 2 + 1]) << 32n) | BigInt(values[at * 2] >>> 0);
}
