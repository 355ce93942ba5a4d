import { decimalParts, IcebergType, PrimitiveType } from '../schema';

/**
 * Column statistics for manifests: value, null and NaN counts, and lower/upper bounds serialized
 * as the spec's single-value binary form (Appendix D). Values arrive in the writer's column form:
 * number (int, float, double, date), bigint (long, time, timestamps, decimal unscaled), boolean,
 * string, Uint8Array.
 */
export interface ColumnStats {
  readonly valueCount: number;
  readonly nullCount: number;
  readonly nanCount?: number;
  readonly lower?: Uint8Array;
  readonly upper?: Uint8Array;
}

/** Like Java's default metrics mode truncate(16): long strings and binaries keep 16-unit bounds. */
const TRUNCATE = 16;

type Compare = (a: never, b: never) => number;

const numeric = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : Object.is(a, -0) && Object.is(b, 0) ? -1 : Object.is(a, 0) && Object.is(b, -0) ? 1 : 0);
const big = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
/**
 * Strings in code point order (= UTF-8 byte order), without encoding each one: UTF-16 order differs
 * only where a surrogate meets a unit in U+E000–U+FFFF, and the adjustment fixes exactly that.
 */
const codePoints = (a: string, b: string): number => {
  // Repeated values (a position delete file's paths) are mostly the same string: no walk.
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
};
const bytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function columnStats(type: IcebergType, values: readonly unknown[]): ColumnStats {
  let nullCount = 0;
  let nanCount = 0;
  if (typeof type === 'object') {
    for (const value of values) if (value === null || value === undefined) nullCount++;
    return { valueCount: values.length, nullCount };
  }
  const isFloat = type === 'float' || type === 'double';
  const compare = comparator(type);
  let min: unknown;
  let max: unknown;
  for (const value of values) {
    if (value === null || value === undefined) {
      nullCount++;
      continue;
    }
    if (isFloat && Number.isNaN(value)) {
      nanCount++;
      continue;
    }
    if (min === undefined || compare(value as never, min as never) < 0) min = value;
    if (max === undefined || compare(value as never, max as never) > 0) max = value;
  }
  return {
    valueCount: values.length,
    nullCount,
    ...(isFloat ? { nanCount } : {}),
    ...(min !== undefined ? { lower: lowerBound(type, min) } : {}),
    ...(max !== undefined ? upperBoundOf(type, max) : {}),
  };
}

function comparator(type: PrimitiveType): Compare {
  switch (type) {
    case 'boolean':
      return ((a: boolean, b: boolean) => Number(a) - Number(b)) as Compare;
    case 'int':
    case 'date':
    case 'float':
    case 'double':
      return numeric as Compare;
    case 'string':
      return codePoints as Compare;
    case 'binary':
    case 'uuid':
      return bytes as Compare;
    default:
      return ((a: bigint | number, b: bigint | number) => big(BigInt(a), BigInt(b))) as Compare;
  }
}

function lowerBound(type: PrimitiveType, value: unknown): Uint8Array {
  const encoded = serialize(type, value);
  return (type === 'string' || type === 'binary') && encoded.length > TRUNCATE ? truncateLower(type, encoded) : encoded;
}

function upperBoundOf(type: PrimitiveType, value: unknown): { upper?: Uint8Array } {
  const encoded = serialize(type, value);
  if ((type !== 'string' && type !== 'binary') || encoded.length <= TRUNCATE) return { upper: encoded };
  const upper = type === 'string' ? incrementString(encoded) : incrementBytes(encoded.subarray(0, TRUNCATE));
  return upper ? { upper } : {};
}

/** The single-value binary form of a value (spec, Appendix D). */
export function serialize(type: PrimitiveType, value: unknown): Uint8Array {
  switch (type) {
    case 'boolean':
      return Uint8Array.of(value ? 1 : 0);
    case 'int':
    case 'date': {
      const out = Buffer.alloc(4);
      out.writeInt32LE(value as number);
      return out;
    }
    case 'float': {
      const out = Buffer.alloc(4);
      out.writeFloatLE(value as number);
      return out;
    }
    case 'double': {
      const out = Buffer.alloc(8);
      out.writeDoubleLE(value as number);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const out = Buffer.alloc(8);
      out.writeBigInt64LE(BigInt(value as bigint | number));
      return out;
    }
    case 'string':
      return Buffer.from(value as string, 'utf8');
    case 'binary':
    case 'uuid':
      return value as Uint8Array;
    default:
      if (decimalParts(type)) return twosComplementMinimal(value as bigint);
      throw new Error(`no bound serialization for ${type}`);
  }
}

/** Big-endian two's complement in the fewest bytes (decimals). */
export function twosComplementMinimal(value: bigint): Uint8Array {
  const out: number[] = [];
  let n = value;
  for (;;) {
    out.unshift(Number(BigInt.asUintN(8, n)));
    const rest = n >> 8n;
    // Done when the remaining bits are all sign bits matching the top bit already written.
    if ((rest === 0n && (out[0] & 0x80) === 0) || (rest === -1n && (out[0] & 0x80) !== 0)) break;
    n = rest;
  }
  return Uint8Array.from(out);
}

function truncateLower(type: 'string' | 'binary', encoded: Uint8Array): Uint8Array {
  if (type === 'binary') return encoded.subarray(0, TRUNCATE);
  return Buffer.from([...Buffer.from(encoded).toString('utf8')].slice(0, TRUNCATE).join(''), 'utf8');
}

/** The first 16 code points with the last incremented: greater than every value with that prefix. */
function incrementString(encoded: Uint8Array): Uint8Array | undefined {
  const points = [...Buffer.from(encoded).toString('utf8')].slice(0, TRUNCATE);
  for (let i = points.length - 1; i >= 0; i--) {
    const next = points[i].codePointAt(0)! + 1;
    if (next <= 0x10ffff && !(next >= 0xd800 && next <= 0xdfff)) {
      return Buffer.from(points.slice(0, i).join('') + String.fromCodePoint(next), 'utf8');
    }
  }
  return undefined;
}

function incrementBytes(prefix: Uint8Array): Uint8Array | undefined {
  const out = Uint8Array.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] < 0xff) {
      out[i]++;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** A value of the type from its single-value binary form (spec, Appendix D): the inverse of {@link serialize}, in the reader's column form. */
export function deserialize(type: PrimitiveType, encoded: Uint8Array): unknown {
  const buffer = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  switch (type) {
    case 'boolean':
      return buffer[0] !== 0;
    case 'int':
    case 'date':
      return buffer.readInt32LE(0);
    case 'float':
      return buffer.readFloatLE(0);
    case 'double':
      return buffer.readDoubleLE(0);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return buffer.readBigInt64LE(0);
    case 'string':
      return buffer.toString('utf8');
    case 'binary':
    case 'uuid':
      return Uint8Array.from(buffer);
    default: {
      if (!decimalParts(type)) throw new Error(`no bound serialization for ${type}`);
      let unscaled = 0n;
      for (const byte of buffer) unscaled = (unscaled << 8n) | BigInt(byte);
      // Big-endian two's complement: a set top bit makes it negative.
      return buffer.length > 0 && (buffer[0] & 0x80) !== 0 ? unscaled - (1n << BigInt(buffer.length * 8)) : unscaled;
    }
  }
}

/** Orders two non-null values of the type as Iceberg orders them (what the bounds are computed with). */
export function compareValues(type: PrimitiveType, a: unknown, b: unknown): number {
  return comparator(type)(a as never, b as never);
}
