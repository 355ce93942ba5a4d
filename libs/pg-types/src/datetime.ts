import { DATE_INFINITY, DATE_MINUS_INFINITY, TIMESTAMP_INFINITY, TIMESTAMP_MINUS_INFINITY } from '@philotes/events';

/**
 * Parsers for PostgreSQL's ISO text forms (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601,
 * which the replication session sets). Dates use the proleptic Gregorian calendar with PostgreSQL's
 * "BC" (1 BC is astronomical year 0).
 */

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The inverse: [year, month, day] for days since 1970-01-01 (astronomical year). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;
const TIME = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/;
const OFFSET = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?/;

function astronomicalYear(digits: string, bc: boolean): number {
  const year = Number(digits);
  return bc ? 1 - year : year;
}

export function parseDateText(text: string): number | undefined {
  if (text === 'infinity') return DATE_INFINITY;
  if (text === '-infinity') return DATE_MINUS_INFINITY;
  return daysOf(text, false);
}

/** Days since 1970-01-01 for `YYYY-MM-DD[ BC]`; `bc` when the suffix was already cut off. */
function daysOf(text: string, bc: boolean): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  return daysFromCivil(astronomicalYear(match[1], bc || match[4] !== undefined), Number(match[2]), Number(match[3]));
}

/** Microseconds since midnight from `HH:MM:SS[.ffffff]`, and what follows it. */
function parseClock(text: string): { micros: bigint; rest: string } | undefined {
  const match = TIME.exec(text);
  if (!match) return undefined;
  const fraction = (match[4] ?? '').padEnd(6, '0');
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return { micros: BigInt(seconds) * MICROS_PER_SECOND + BigInt(fraction), rest: text.slice(match[0].length) };
}

/** Offset east of UTC in seconds from `+HH[:MM[:SS]]`, and what follows it. */
function parseOffset(text: string): { seconds: number; rest: string } | undefined {
  const match = OFFSET.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0);
  return { seconds: match[1] === '-' ? -seconds : seconds, rest: text.slice(match[0].length) };
}

export function parseTimeText(text: string): bigint | undefined {
  const clock = parseClock(text);
  return clock && clock.rest === '' ? clock.micros : undefined;
}

export function parseTimeTzText(text: string): { micros: bigint; offsetSeconds: number } | undefined {
  const clock = parseClock(text);
  if (!clock) return undefined;
  const offset = parseOffset(clock.rest);
  return offset && offset.rest === '' ? { micros: clock.micros, offsetSeconds: offset.seconds } : undefined;
}

/** Microseconds since 1970-01-01 UTC from `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]][ BC]`. */
export function parseTimestampText(text: string, zoned: boolean): bigint | undefined {
  if (text === 'infinity') return TIMESTAMP_INFINITY;
  if (text === '-infinity') return TIMESTAMP_MINUS_INFINITY;
  const bc = text.endsWith(' BC');
  const body = bc ? text.slice(0, -3) : text;
  const space = body.indexOf(' ');
  if (space < 0) return undefined;
  // In a timestamp the era follows the time (`0044-03-15 12:00:00+00 BC`), so it was cut off above.
  const days = daysOf(body.slice(0, space), bc);
  if (days === undefined) return undefined;
  const clock = parseClock(body.slice(space + 1));
  if (!clock) return undefined;
  let offsetSeconds = 0;
  if (zoned) {
    const offset = parseOffset(clock.rest);
    if (!offset || offset.rest !== '') return undefined;
    offsetSeconds = offset.seconds;
  } else if (clock.rest !== '') {
    return undefined;
  }
  return BigInt(days) * MICROS_PER_DAY + clock.micros - BigInt(offsetSeconds) * MICROS_PER_SECOND;
}

const INTERVAL = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/;

/** Months, days and microseconds from IntervalStyle iso_8601 output, e.g. `P1Y2M-3DT4H5M6.5S`. */
export function parseIntervalText(text: string): { months: number; days: number; micros: bigint } | undefined {
  const match = INTERVAL.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const months = Number(match[1] ?? 0) * 12 + Number(match[2] ?? 0);
  const days = Number(match[3] ?? 0);
  const hours = BigInt(match[4] ?? 0);
  const minutes = BigInt(match[5] ?? 0);
  return { months, days, micros: (hours * 3600n + minutes * 60n) * MICROS_PER_SECOND + secondsToMicros(match[6] ?? '0') };
}

function secondsToMicros(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const micros = BigInt(whole) * MICROS_PER_SECOND + BigInt(fraction.padEnd(6, '0').slice(0, 6));
  return negative ? -micros : micros;
}
