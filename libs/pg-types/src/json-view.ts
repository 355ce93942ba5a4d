import { CdcValue, ColumnSchema, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UnchangedToast } from '@philotes/events';
import { civilFromDays } from './datetime';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How an unchanged TOAST value shows: a marker object no PostgreSQL value renders as. */
export const UNCHANGED_TOAST_JSON = { unchanged_toast: true } as const;

/**
 * A change's values as JSON an operator can read and a program can trust: exact values as strings
 * in PostgreSQL's own ISO text forms (int8 beyond 2^53, numeric, timestamps to the microsecond,
 * ±infinity, NaN), bytea as `\x` hex, small numbers as numbers. json/jsonb stay their text, so a
 * number inside them keeps every digit.
 */
export function cdcValueToJson(value: CdcValue): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(cdcValueToJson);
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (value instanceof PgNumeric) return value.text;
  if (value instanceof PgDate) return dateText(value);
  if (value instanceof PgTimestamp) return timestampText(value);
  if (value instanceof PgTime) return timeText(value.micros);
  if (value instanceof PgTimeTz) return `${timeText(value.micros)}${offsetText(value.offsetSeconds)}`;
  if (value instanceof PgInterval) return intervalText(value);
  if (value instanceof UnchangedToast) return { ...UNCHANGED_TOAST_JSON };
  throw new Error('a value of an unknown kind');
}

/** A row image as an object by column name (positions past the schema are ignored). */
export function rowToJson(columns: readonly ColumnSchema[], row: readonly CdcValue[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  columns.forEach((column, i) => {
    out[column.name] = cdcValueToJson(row[i] ?? null);
  });
  return out;
}

const pad = (n: number | bigint, width = 2): string => n.toString().padStart(width, '0');

function civilText(days: number): string {
  const [year, month, day] = civilFromDays(days);
  // PostgreSQL writes astronomical year 0 as 1 BC.
  return year > 0 ? `${pad(year, 4)}-${pad(month)}-${pad(day)}` : `${pad(1 - year, 4)}-${pad(month)}-${pad(day)} BC`;
}

function dateText(date: PgDate): string {
  if (date.infinite) return date.infinite > 0 ? 'infinity' : '-infinity';
  return civilText(date.days);
}

function timeText(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  const text = `${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}`;
  return fraction === 0n ? text : `${text}.${pad(fraction, 6).replace(/0+$/, '')}`;
}

function offsetText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const rest = abs % 3600;
  return `${sign}${pad(Math.floor(abs / 3600))}${rest === 0 ? '' : `:${pad(Math.floor(rest / 60))}${rest % 60 === 0 ? '' : `:${pad(rest % 60)}`}`}`;
}

function timestampText(ts: PgTimestamp): string {
  if (ts.infinite) return ts.infinite > 0 ? 'infinity' : '-infinity';
  const day = 86_400_000_000n;
  let days = ts.micros / day;
  let within = ts.micros % day;
  if (within < 0n) {
    within += day;
    days -= 1n;
  }
  const text = civilText(Number(days));
  const bc = text.endsWith(' BC');
  const date = bc ? text.slice(0, -3) : text;
  return `${date} ${timeText(within)}${ts.zoned ? '+00' : ''}${bc ? ' BC' : ''}`;
}

/** PostgreSQL's `postgres` interval style: `1 year 2 mons 3 days 04:05:06.5` (singular only for exactly 1, as PostgreSQL does). */
function intervalText(interval: PgInterval): string {
  const parts: string[] = [];
  const years = Math.trunc(interval.months / 12);
  const months = interval.months % 12;
  const unit = (n: number, one: string, many: string) => parts.push(`${n} ${n === 1 ? one : many}`);
  if (years !== 0) unit(years, 'year', 'years');
  if (months !== 0) unit(months, 'mon', 'mons');
  if (interval.days !== 0) unit(interval.days, 'day', 'days');
  if (interval.micros !== 0n || parts.length === 0) {
    const negative = interval.micros < 0n;
    const abs = negative ? -interval.micros : interval.micros;
    parts.push(`${negative ? '-' : ''}${timeText(abs)}`);
  }
  return parts.join(' ');
}
