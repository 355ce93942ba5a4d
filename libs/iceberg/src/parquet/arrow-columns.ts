import * as arrow from 'apache-arrow';
import { avroCompatibleName, decimalParts, IcebergType, isList, NestedField, PrimitiveType } from '../schema';

/**
 * Arrow columns built straight from typed arrays (offsets, bytes, validity bitmaps): the generic
 * builders of apache-arrow cost more than writing the Parquet file itself. Each field carries its
 * Iceberg field id as `PARQUET:field_id`, which the Parquet writer turns into the schema's field_id.
 *
 * Column values by Iceberg type: boolean; number (int, float, double, date); number or bigint
 * (long, time, timestamp, timestamptz); bigint (decimal, unscaled); string; Uint8Array (binary);
 * arrays (list). null is null.
 */
export function arrowField(field: { id: number; name: string; required: boolean; type: IcebergType }): arrow.Field {
  return new arrow.Field(avroCompatibleName(field.name), arrowType(field.type), !field.required, new Map([['PARQUET:field_id', String(field.id)]]));
}

function arrowType(type: IcebergType): arrow.DataType {
  if (isList(type)) {
    return new arrow.List(arrowField({ id: type['element-id'], name: 'element', required: type['element-required'], type: type.element }));
  }
  const decimal = decimalParts(type);
  if (decimal) return new arrow.Decimal(decimal.scale, decimal.precision, 128);
  switch (type) {
    case 'boolean':
      return new arrow.Bool();
    case 'int':
      return new arrow.Int32();
    case 'long':
      return new arrow.Int64();
    case 'float':
      return new arrow.Float32();
    case 'double':
      return new arrow.Float64();
    case 'date':
      return new arrow.DateDay();
    case 'time':
      return new arrow.TimeMicrosecond();
    case 'timestamp':
      return new arrow.TimestampMicrosecond();
    case 'timestamptz':
      return new arrow.TimestampMicrosecond('UTC');
    case 'string':
      return new arrow.Utf8();
    case 'binary':
    case 'uuid':
      return new arrow.Binary();
    default:
      throw new Error(`no Arrow type for Iceberg type ${String(type)}`);
  }
}

export function arrowData(field: NestedField, values: readonly unknown[]): arrow.Data {
  return build(arrowField(field).type, field.type, values);
}

function build(arrowType: arrow.DataType, type: IcebergType, values: readonly unknown[]): arrow.Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const common = { type: arrowType, length, nullCount, nullBitmap } as const;
  if (isList(type)) {
    const offsets = new Int32Array(length + 1);
    const flat: unknown[] = [];
    for (let i = 0; i < length; i++) {
      const items = values[i] as unknown[] | null;
      if (items) for (const item of items) flat.push(item);
      offsets[i + 1] = flat.length;
    }
    const child = build((arrowType as arrow.List).children[0].type, type.element, flat);
    return arrow.makeData({ ...common, type: arrowType as arrow.List, valueOffsets: offsets, child });
  }
  const primitive = type as PrimitiveType;
  if (decimalParts(primitive)) {
    const words = new Uint32Array(length * 4);
    for (let i = 0; i < length; i++) {
      const value = values[i];
      if (value === null || value === undefined) continue;
      let bits = BigInt.asUintN(128, value as bigint);
      for (let w = 0; w < 4; w++) {
        words[i * 4 + w] = Number(bits & 0xffffffffn);
        bits >>= 32n;
      }
    }
    return arrow.makeData({ ...common, type: arrowType as arrow.Decimal, data: words });
  }
  switch (primitive) {
    case 'boolean': {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (values[i] === true) bits[i >> 3] |= 1 << (i & 7);
      return arrow.makeData({ ...common, type: arrowType as arrow.Bool, data: bits });
    }
    case 'int':
    case 'date':
      return arrow.makeData({ ...common, type: arrowType as arrow.Int32, data: fill(new Int32Array(length), values) });
    case 'float':
      return arrow.makeData({ ...common, type: arrowType as arrow.Float32, data: fill(new Float32Array(length), values) });
    case 'double':
      return arrow.makeData({ ...common, type: arrowType as arrow.Float64, data: fill(new Float64Array(length), values) });
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const data = new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (value !== null && value !== undefined) data[i] = typeof value === 'bigint' ? value : BigInt(value as number);
      }
      return arrow.makeData({ ...common, type: arrowType as arrow.Int64, data });
    }
    case 'string': {
      let bytes = 0;
      for (const value of values) if (typeof value === 'string') bytes += Buffer.byteLength(value, 'utf8');
      const data = Buffer.allocUnsafe(bytes);
      const offsets = new Int32Array(length + 1);
      let at = 0;
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (typeof value === 'string') at += data.write(value, at, 'utf8');
        offsets[i + 1] = at;
      }
      return arrow.makeData({ ...common, type: arrowType as arrow.Utf8, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, at) });
    }
    case 'binary':
    case 'uuid': {
      let bytes = 0;
      for (const value of values) if (value instanceof Uint8Array) bytes += value.length;
      const data = new Uint8Array(bytes);
      const offsets = new Int32Array(length + 1);
      let at = 0;
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (value instanceof Uint8Array) {
          data.set(value, at);
          at += value.length;
        }
        offsets[i + 1] = at;
      }
      return arrow.makeData({ ...common, type: arrowType as arrow.Binary, valueOffsets: offsets, data });
    }
    default:
      throw new Error(`cannot build an Arrow column of ${String(primitive)}`);
  }
}

function fill<T extends Int32Array | Float32Array | Float64Array>(array: T, values: readonly unknown[]): T {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) array[i] = value as number;
  }
  return array;
}

function validity(values: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  for (const value of values) if (value === null || value === undefined) nullCount++;
  if (nullCount === 0) return { nullCount };
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i] !== null && values[i] !== undefined) bitmap[i >> 3] |= 1 << (i & 7);
  return { nullBitmap: bitmap, nullCount };
}
