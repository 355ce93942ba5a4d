import { CdcValue, ColumnSchema, numericPrecision, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UnchangedToast, ValueKind } from '@philotes/events';
import { decimalParts, decimalType, IcebergType, PrimitiveType } from '@philotes/iceberg';
import { PG_EPOCH_UNIX_MICROS } from '@philotes/pgoutput';
import { ClassifiedError, neverRetry } from '@philotes/retry';

/**
 * A value that can never be written to its column as mapped (numeric NaN into a decimal, a
 * fraction a decimal would round, a multi-dimensional array). Retrying does not help; the event
 * goes to the dead letters, the message says what would.
 */
export class PoisonValueError extends ClassifiedError {
  constructor(column: string, reason: string, action: string, kind: 'poison' | 'oversized' = 'poison') {
    super(`column ${column}: ${reason}`, neverRetry(kind, action));
  }
}

/**
 * A change the reader did not store whole: larger than PHILOTES_CDC_MAX_EVENT_BYTES, it holds only
 * its size. It goes to the dead letters at once (retrying cannot bring its row back).
 */
export class OversizedEventError extends PoisonValueError {
  constructor(bytes: number) {
    super(
      '',
      '',
      'resync the table to take the row as it is now (with PHILOTES_CDC_MAX_EVENT_BYTES raised above the row, and the readers\' memory with it), or discard the letter',
      'oversized',
    );
    this.message = `the change was ${bytes} bytes as the source sent it, over PHILOTES_CDC_MAX_EVENT_BYTES: the reader stored its position and size, not its row`;
  }
}

/** Precision and scale for an unconstrained numeric (what pg_lake does); larger values are refused. */
export const UNBOUNDED_NUMERIC = { precision: 38, scale: 9 } as const;
const MAX_DECIMAL_PRECISION = 38;
const MICROS_PER_DAY = 86_400_000_000n;

const SCALAR: Readonly<Record<Exclude<ValueKind, 'array' | 'numeric'>, PrimitiveType>> = {
  bool: 'boolean',
  int2: 'int',
  int4: 'int',
  int8: 'long',
  float4: 'float',
  float8: 'double',
  text: 'string',
  enum: 'string',
  // uuid as text: readers disagree on Iceberg's uuid (FIXED[16]); text compares and deletes everywhere.
  uuid: 'string',
  json: 'string',
  jsonb: 'string',
  bytea: 'binary',
  date: 'date',
  time: 'time',
  // timetz becomes UTC time: Iceberg's time has no zone.
  timetz: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  // interval has months, days and microseconds that no Iceberg type holds: ISO 8601 text.
  interval: 'string',
};

/** The Iceberg type for a source column (ICEBERG-NOTES §6), or `string` when overridden. */
export function icebergTypeFor(column: ColumnSchema, asString: boolean): IcebergType {
  if (asString || column.textFallback) return 'string';
  if (column.kind === 'numeric') return decimalFor(column.typeModifier) ?? 'string';
  if (column.kind === 'array') {
    const element = column.element?.kind;
    const elementType: PrimitiveType = element === 'numeric' ? (decimalFor(-1) as PrimitiveType) : element && element !== 'array' ? SCALAR[element] : 'string';
    return { type: 'list', 'element-id': 0, 'element-required': false, element: elementType };
  }
  return SCALAR[column.kind];
}

function decimalFor(typeModifier: number): PrimitiveType | undefined {
  const declared = numericPrecision(typeModifier);
  if (!declared) return decimalType(UNBOUNDED_NUMERIC.precision, UNBOUNDED_NUMERIC.scale);
  // PostgreSQL 15 allows negative scales (rounding to tens); Iceberg does not.
  if (declared.precision > MAX_DECIMAL_PRECISION || declared.scale < 0) return undefined;
  return decimalType(declared.precision, declared.scale);
}

export type Unrepresentable = 'reject' | 'null';
export type Converter = (value: CdcValue) => unknown;

/**
 * How a source value becomes a column value of the Parquet writer (see @philotes/iceberg
 * arrow-columns): numbers, bigints for longs, times and unscaled decimals, strings, bytes, arrays.
 * Values that cannot be stored exactly throw PoisonValueError, or become null if the policy says so.
 */
export function converterFor(column: ColumnSchema, type: IcebergType, unrepresentable: Unrepresentable, qualifiedColumn: string): Converter {
  const refuse = (reason: string, action: string): null => {
    if (unrepresentable === 'null') return null;
    throw new PoisonValueError(qualifiedColumn, reason, action);
  };
  if (typeof type === 'object') {
    const element = converterFor({ ...column, kind: column.element?.kind ?? 'text', element: undefined }, type.element, unrepresentable, qualifiedColumn);
    return (value) => {
      if (value === null) return null;
      if (!Array.isArray(value)) return element(value);
      return value.map((item) => {
        if (Array.isArray(item)) throw new PoisonValueError(qualifiedColumn, 'multi-dimensional arrays are not supported', `store it as text with PHILOTES_ICEBERG_COLUMN_TYPES=${qualifiedColumn}=string`);
        return item === null ? null : element(item);
      });
    };
  }
  const decimal = decimalParts(type);
  if (decimal) return (value) => (value === null ? null : toDecimal(value, decimal.precision, decimal.scale, qualifiedColumn, refuse));
  switch (type) {
    case 'string':
      return (value) => (value === null ? null : toText(value));
    case 'long':
      return (value) => (value === null ? null : typeof value === 'bigint' ? value : BigInt(value as number));
    case 'date':
      return (value) => {
        if (value === null) return null;
        const date = value as PgDate;
        return date.infinite ? refuse('an infinite date has no Iceberg value', 'set PHILOTES_ICEBERG_UNREPRESENTABLE=null to store NULL') : date.days;
      };
    case 'timestamp':
    case 'timestamptz':
      return (value) => {
        if (value === null) return null;
        const timestamp = value as PgTimestamp;
        return timestamp.infinite ? refuse('an infinite timestamp has no Iceberg value', 'set PHILOTES_ICEBERG_UNREPRESENTABLE=null to store NULL') : timestamp.micros;
      };
    case 'time':
      return (value) => {
        if (value === null) return null;
        const micros = value instanceof PgTimeTz ? (((value.micros - BigInt(value.offsetSeconds) * 1_000_000n) % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY : (value as PgTime).micros;
        return micros >= MICROS_PER_DAY ? refuse('24:00:00 is beyond Iceberg time', 'set PHILOTES_ICEBERG_UNREPRESENTABLE=null to store NULL') : micros;
      };
    case 'float':
      // A real holds 32 bits: the value as Parquet keeps it (and gives it back), so a key of it
      // (equality deletes, the key index) is the same key written and read back.
      return (value) => (value === null ? null : Math.fround(value as number));
    default:
      // boolean, int, double, binary: already in column form.
      return (value) => value;
  }
}

function toText(value: CdcValue): string {
  if (typeof value === 'string') return value;
  if (value instanceof PgNumeric) return value.text;
  if (value instanceof PgInterval) return intervalText(value);
  if (value instanceof UnchangedToast) throw new Error('an unchanged TOAST value must be resolved before conversion');
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** ISO 8601, as PostgreSQL prints intervals with IntervalStyle=iso_8601: P1Y2M-3DT4H5M6.5S. */
export function intervalText(interval: PgInterval): string {
  const years = Math.trunc(interval.months / 12);
  const months = interval.months % 12;
  const negative = interval.micros < 0n;
  const abs = negative ? -interval.micros : interval.micros;
  const sign = negative ? '-' : '';
  const hours = abs / 3_600_000_000n;
  const minutes = (abs % 3_600_000_000n) / 60_000_000n;
  const micros = abs % 60_000_000n;
  const seconds = `${micros / 1_000_000n}${micros % 1_000_000n ? `.${String(micros % 1_000_000n).padStart(6, '0').replace(/0+$/, '')}` : ''}`;
  const date = `${years ? `${years}Y` : ''}${months ? `${months}M` : ''}${interval.days ? `${interval.days}D` : ''}`;
  const time = `${hours ? `${sign}${hours}H` : ''}${minutes ? `${sign}${minutes}M` : ''}${micros ? `${sign}${seconds}S` : ''}`;
  if (!date && !time) return 'PT0S';
  return `P${date}${time ? `T${time}` : ''}`;
}

/** The unscaled value of a decimal(precision, scale), exactly, or a refusal. */
function toDecimal(value: CdcValue, precision: number, scale: number, column: string, refuse: (reason: string, action: string) => null): bigint | null {
  const text = value instanceof PgNumeric ? value.text : typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
  if (text === undefined) throw new PoisonValueError(column, 'a non-numeric value in a decimal column', 'inspect the event');
  if (value instanceof PgNumeric && value.special) {
    return refuse(`numeric ${value.special} has no decimal value`, `set PHILOTES_ICEBERG_UNREPRESENTABLE=null to store NULL, or PHILOTES_ICEBERG_COLUMN_TYPES=${column}=string to keep it as text`);
  }
  const small = smallDecimal(text, precision, scale);
  if (small !== undefined) return small;
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new PoisonValueError(column, 'malformed numeric text', 'inspect the event');
  let digits = `${match[2]}${match[3] ?? ''}`;
  let fraction = (match[3] ?? '').length - Number(match[4] ?? 0);
  // Trailing zeros beyond the scale lose nothing.
  while (fraction > scale && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    fraction--;
  }
  if (fraction > scale) {
    throw new PoisonValueError(column, `the value has more than ${scale} fractional digits; decimal(${precision}, ${scale}) would round it`, `write it as text with PHILOTES_ICEBERG_COLUMN_TYPES=${column}=string`);
  }
  const unscaled = BigInt(digits) * 10n ** BigInt(scale - fraction);
  if (unscaled.toString().length > precision) {
    throw new PoisonValueError(column, `the value needs more than ${precision} digits`, `write it as text with PHILOTES_ICEBERG_COLUMN_TYPES=${column}=string`);
  }
  return match[1] === '-' ? -unscaled : unscaled;
}

/** Powers of ten a double holds exactly. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * The common case without a regular expression, strings or bigint arithmetic: `-?digits[.digits]`
 * whose unscaled value has at most 15 digits (exact in a double) and no more fractional digits
 * than the scale. Undefined leaves anything else to the general path.
 */
function smallDecimal(text: string, precision: number, scale: number): bigint | undefined {
  if (scale > 15) return undefined;
  const negative = text.charCodeAt(0) === 0x2d;
  let value = 0;
  let digits = 0;
  let fraction = -1;
  for (let i = negative ? 1 : 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e && fraction < 0) {
      fraction = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return undefined;
    if (fraction >= 0) fraction++;
    value = value * 10 + (c - 0x30);
    if (value > 0) digits++;
  }
  if (digits === 0 && value === 0 && text.length === (negative ? 1 : 0)) return undefined;
  const fractionDigits = fraction < 0 ? 0 : fraction;
  if (fraction === 0 || fractionDigits > scale || digits + scale - fractionDigits > 15) return undefined;
  const unscaled = value * POWERS_OF_TEN[scale - fractionDigits];
  if (precision <= 15 && unscaled >= POWERS_OF_TEN[precision]) return undefined;
  return BigInt(negative ? -unscaled : unscaled);
}

/** Commit times of the buffer (PostgreSQL-epoch microseconds) as Unix microseconds. */
export function unixMicros(pgEpochMicros: bigint): bigint {
  return pgEpochMicros + PG_EPOCH_UNIX_MICROS;
}

/**
 * Whether every value of a decimal `narrower` is exactly a value of the decimal field `wider`
 * (no more fractional digits, no more integer digits): a column narrowed at the source, or now
 * described more precisely (a domain's numeric(12,2), once read as unconstrained), keeps its field.
 */
export function decimalHolds(wider: IcebergType, narrower: IcebergType): boolean {
  const a = decimalParts(wider);
  const b = decimalParts(narrower);
  return !!a && !!b && b.scale <= a.scale && b.precision - b.scale <= a.precision - a.scale;
}

/** Promotions Iceberg allows (spec, Schema Evolution): int→long, float→double, decimal precision up. */
export function isPromotion(from: IcebergType, to: IcebergType): boolean {
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = decimalParts(from);
  const b = decimalParts(to);
  return !!a && !!b && a.scale === b.scale && b.precision >= a.precision;
}
