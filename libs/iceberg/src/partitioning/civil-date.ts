/**
 * Calendar dates from days since 1970-01-01 by integer arithmetic (the proleptic Gregorian
 * calendar, as Iceberg and PostgreSQL count), because JavaScript's Date stops at ±100,000,000 days
 * while PostgreSQL dates reach the year 5874897 and timestamps 294276: a Date-based transform
 * would turn those into NaN partition values and "Invalid Date" folders.
 */
export interface CivilDate {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  /** 1–31. */
  readonly day: number;
}

const DAYS_PER_ERA = 146_097; // 400 Gregorian years
const EPOCH_SHIFT = 719_468; // days from 0000-03-01 to 1970-01-01

/** The date `days` after 1970-01-01 (negative before it); exact for any safe integer of days. */
export function civilFromDays(days: number): CivilDate {
  // Years counted from March, so the leap day ends a year (H. Hinnant, "chrono-compatible
  // low-level date algorithms").
  const z = days + EPOCH_SHIFT;
  const era = Math.floor(z / DAYS_PER_ERA);
  const dayOfEra = z - era * DAYS_PER_ERA;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** A year as Java's ISO formats write it: four digits at least, '-' before 1 BC's 0000, '+' past 9999. */
export function isoYear(year: number): string {
  if (year < 0) return `-${String(-year).padStart(4, '0')}`;
  return year > 9999 ? `+${year}` : String(year).padStart(4, '0');
}

const two = (n: number) => String(n).padStart(2, '0');

/** `yyyy-MM-dd` of the date `days` after 1970-01-01. */
export function isoDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${isoYear(year)}-${two(month)}-${two(day)}`;
}

/** `yyyy-MM` of the month `months` after 1970-01. */
export function isoMonth(months: number): string {
  const years = Math.floor(months / 12);
  return `${isoYear(1970 + years)}-${two(months - years * 12 + 1)}`;
}

/** `HH:mm:ss` of a second of the day (0–86399). */
export function isoTimeOfDay(seconds: number): string {
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}
