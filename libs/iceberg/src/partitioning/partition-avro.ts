import { avroCompatibleName, decimalParts, PrimitiveType } from '../schema';
import { BoundPartitionField, PartitionTuple } from './partition-spec';

/**
 * The partition record of a manifest entry (spec, Manifests: "partition", a struct whose fields
 * are the spec's partition fields, each optional, with the partition field id as field-id), and
 * the conversion of tuples to and from its Avro values.
 */
export function partitionAvroFields(bound: readonly BoundPartitionField[]): object[] {
  return bound.map((b) => ({
    name: avroCompatibleName(b.field.name),
    type: ['null', avroTypeOf(b.type, b.field['field-id'])],
    default: null,
    'field-id': b.field['field-id'],
  }));
}

function avroTypeOf(type: PrimitiveType, fieldId: number): unknown {
  const decimal = decimalParts(type);
  if (decimal) return { type: 'fixed', name: `fixed_${fieldId}`, size: decimalBytes(decimal.precision), logicalType: 'decimal', precision: decimal.precision, scale: decimal.scale };
  switch (type) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return type;
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': type === 'timestamptz' };
    case 'uuid':
      return { type: 'fixed', name: `uuid_${fieldId}`, size: 16, logicalType: 'uuid' };
    case 'binary':
      return 'bytes';
  }
  throw new Error(`no Avro type for partition values of ${String(type)}`);
}

/** Bytes Java gives a decimal of this precision (TypeUtil.decimalRequiredBytes). */
export function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) <= 10n ** BigInt(precision)) bytes++;
  return bytes;
}

export function toAvroPartition(bound: readonly BoundPartitionField[], tuple: PartitionTuple | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  bound.forEach((b, i) => {
    const value = tuple?.[i] ?? null;
    record[avroCompatibleName(b.field.name)] = value === null ? null : toAvroValue(b.type, value);
  });
  return record;
}

function toAvroValue(type: PrimitiveType, value: unknown): unknown {
  const decimal = decimalParts(type);
  if (decimal) {
    const size = decimalBytes(decimal.precision);
    const out = Buffer.alloc(size);
    let n = BigInt.asUintN(size * 8, BigInt(value as bigint));
    for (let i = size - 1; i >= 0; i--) {
      out[i] = Number(n & 0xffn);
      n >>= 8n;
    }
    return out;
  }
  if (type === 'binary' || type === 'uuid') return Buffer.from(value as Uint8Array);
  return value;
}

/** The tuple of a manifest entry read back, by the partition record's Avro schema (decimals as unscaled bigints). */
export function fromAvroPartition(record: Record<string, unknown>, fields: ReadonlyArray<{ name: string; type: unknown }>): PartitionTuple {
  return fields.map((field) => {
    const value = record[field.name];
    if (value === null || value === undefined) return null;
    const type = (field.type as unknown[]).find((t) => t !== 'null') as { logicalType?: string } | string;
    if (typeof type === 'object' && type.logicalType === 'decimal') {
      const bytes = value as Buffer;
      return BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex') || '0'}`));
    }
    if (value instanceof Buffer) return Uint8Array.from(value);
    return value;
  });
}
