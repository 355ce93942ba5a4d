import { serialize, twosComplementMinimal } from '../parquet/bounds';
import { decimalParts, IcebergType, isList, PrimitiveType } from '../schema';
import { civilFromDays, isoDate, isoMonth, isoTimeOfDay, isoYear } from './civil-date';
import { murmur3 } from './murmur3';

/**
 * Iceberg's partition transforms (spec, "Partition Transforms"), over values in the writer's
 * column form (see parquet/arrow-columns.ts): number (int, date in days), number or bigint (long,
 * time, timestamps in micros), bigint (decimal, unscaled), string, Uint8Array (binary, uuid).
 */
export type Transform =
  | { readonly kind: 'identity' }
  | { readonly kind: 'bucket'; readonly n: number }
  | { readonly kind: 'truncate'; readonly width: number }
  | { readonly kind: 'year' | 'month' | 'day' | 'hour' }
  | { readonly kind: 'void' };

export type TimeUnit = 'year' | 'month' | 'day' | 'hour';

/** The transform's string in metadata JSON: `identity`, `bucket[16]`, `truncate[4]`, `month`, ... */
export function formatTransform(transform: Transform): string {
  if (transform.kind === 'bucket') return `bucket[${transform.n}]`;
  if (transform.kind === 'truncate') return `truncate[${transform.width}]`;
  return transform.kind;
}

export function parseTransform(text: string): Transform {
  const parameterised = /^(bucket|truncate)\[(\d+)\]$/.exec(text);
  if (parameterised) {
    const size = Number(parameterised[2]);
    return parameterised[1] === 'bucket' ? { kind: 'bucket', n: size } : { kind: 'truncate', width: size };
  }
  if (text === 'identity' || text === 'year' || text === 'month' || text === 'day' || text === 'hour' || text === 'void') return { kind: text };
  throw new Error(`unknown partition transform ${text}`);
}

const BUCKET_TYPES = new Set<string>(['int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'binary']);
const TRUNCATE_TYPES = new Set<string>(['int', 'long', 'string', 'binary']);
const DATE_TYPES = new Set<string>(['date', 'timestamp', 'timestamptz']);
const HOUR_TYPES = new Set<string>(['timestamp', 'timestamptz']);

/** Whether the transform accepts a source column of this type (spec's table of transforms). */
export function acceptsType(transform: Transform, type: IcebergType): boolean {
  if (isList(type)) return transform.kind === 'void';
  const decimal = decimalParts(type) !== undefined;
  switch (transform.kind) {
    case 'identity':
    case 'void':
      return true;
    case 'bucket':
      return decimal || BUCKET_TYPES.has(type);
    case 'truncate':
      return decimal || TRUNCATE_TYPES.has(type);
    case 'hour':
      return HOUR_TYPES.has(type);
    default:
      return DATE_TYPES.has(type);
  }
}

/** The type of the partition value: int for bucket and year/month/hour, date for day, else the source type. */
export function resultType(transform: Transform, source: PrimitiveType): PrimitiveType {
  switch (transform.kind) {
    case 'bucket':
    case 'year':
    case 'month':
    case 'hour':
      return 'int';
    case 'day':
      return 'date';
    default:
      return source;
  }
}

/** The partition value of `value` (a column of type `source`); null stays null for every transform. */
export function applyTransform(transform: Transform, source: PrimitiveType, value: unknown): unknown {
  if (value === null || value === undefined || transform.kind === 'void') return null;
  switch (transform.kind) {
    case 'identity':
      return value;
    case 'bucket':
      return (bucketHash(source, value) & 0x7fffffff) % transform.n;
    case 'truncate':
      return truncate(source, transform.width, value);
    default:
      return timeValue(transform.kind, source, value);
  }
}

/** The 32-bit hash bucket[N] reduces (spec, Appendix B: the hash input per type). */
export function bucketHash(source: PrimitiveType, value: unknown): number {
  return murmur3(hashInput(source, value));
}

function hashInput(source: PrimitiveType, value: unknown): Uint8Array {
  switch (source) {
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      // int and date hash as a long, so a promoted column keeps its buckets.
      return serialize('long', BigInt(value as number | bigint));
    case 'string':
      return Buffer.from(value as string, 'utf8');
    case 'uuid':
    case 'binary':
      return value as Uint8Array;
    default:
      if (decimalParts(source)) return twosComplementMinimal(BigInt(value as bigint));
      throw new Error(`bucket does not apply to ${source}`);
  }
}

function truncate(source: PrimitiveType, width: number, value: unknown): unknown {
  if (source === 'string') return [...(value as string)].slice(0, width).join('');
  if (source === 'binary') return (value as Uint8Array).slice(0, width);
  if (typeof value === 'bigint') {
    const w = BigInt(width);
    return value - (((value % w) + w) % w);
  }
  const v = value as number;
  return v - (((v % width) + width) % width);
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Years, months, days or hours since 1970-01-01T00:00 UTC, rounded down (so 1969-12-31 is day -1). */
function timeValue(unit: TimeUnit, source: PrimitiveType, value: unknown): number {
  const micros = source === 'date' ? BigInt(value as number) * MICROS_PER_DAY : BigInt(value as number | bigint);
  if (unit === 'hour') return Number(floorDiv(micros, MICROS_PER_HOUR));
  const days = Number(floorDiv(micros, MICROS_PER_DAY));
  if (unit === 'day') return days;
  const { year, month } = civilFromDays(days);
  return unit === 'year' ? year - 1970 : (year - 1970) * 12 + month - 1;
}

/**
 * A partition value as Java's Transform.toHumanString writes it (the Hive-style path segment):
 * `2017`, `2017-11`, `2017-11-16`, `2017-11-16-22`, ISO dates and timestamps, a uuid's canonical
 * text, base64 bytes.
 */
export function humanString(transform: Transform, source: PrimitiveType, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const type = resultType(transform, source);
  if (transform.kind === 'year' || transform.kind === 'month' || transform.kind === 'hour') {
    const n = value as number;
    if (transform.kind === 'year') return isoYear(1970 + n);
    if (transform.kind === 'month') return isoMonth(n);
    const days = Math.floor(n / 24);
    return `${isoDate(days)}-${String(n - days * 24).padStart(2, '0')}`;
  }
  switch (type) {
    case 'date':
      return isoDate(value as number);
    case 'timestamp':
    case 'timestamptz': {
      const micros = BigInt(value as number | bigint);
      const days = floorDiv(micros, MICROS_PER_DAY);
      const ofDay = micros - days * MICROS_PER_DAY;
      const fraction = String(ofDay % 1_000_000n).padStart(6, '0');
      return `${isoDate(Number(days))}T${isoTimeOfDay(Number(ofDay / 1_000_000n))}.${fraction}${type === 'timestamptz' ? '+00:00' : ''}`;
    }
    case 'uuid':
      return uuidText(value as Uint8Array);
    case 'binary':
      return Buffer.from(value as Uint8Array).toString('base64');
    default: {
      const decimal = decimalParts(type);
      if (decimal) return decimalString(BigInt(value as bigint), decimal.scale);
      return String(value);
    }
  }
}

/** 8-4-4-4-12 lower-case hex, as java.util.UUID.toString() (and PostgreSQL) write it. */
function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function decimalString(unscaled: bigint, scale: number): string {
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
