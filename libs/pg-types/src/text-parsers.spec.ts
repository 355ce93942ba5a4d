import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz } from '@philotes/events';
import { parseArrayText } from './array-text';
import { civilFromDays, daysFromCivil } from './datetime';
import { textParser, ValueParseError } from './text-parsers';

/** Days since 1970 by JavaScript's own proleptic Gregorian calendar (astronomical years). */
function jsDays(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.round(date.getTime() / 86_400_000);
}

function jsMicros(year: number, month: number, day: number, h: number, m: number, s: number, micros = 0): bigint {
  return BigInt(jsDays(year, month, day)) * 86_400_000_000n + BigInt((h * 3600 + m * 60 + s) * 1_000_000 + micros);
}

describe('calendar', () => {
  it.each([
    [1970, 1, 1],
    [2000, 2, 29],
    [1900, 3, 1],
    [2024, 12, 31],
    [1, 1, 1],
    [0, 12, 31],
    [-43, 3, 15],
    [9999, 12, 31],
    [275760, 9, 12],
  ])('day count of %i-%i-%i matches JavaScript and inverts', (y, m, d) => {
    expect(daysFromCivil(y, m, d)).toBe(jsDays(y, m, d));
    expect(civilFromDays(daysFromCivil(y, m, d))).toEqual([y, m, d]);
  });
});

describe('textParser', () => {
  it('reads integers, int8 beyond 2^53 as bigint, floats exactly', () => {
    expect(textParser('int4')('-2147483648')).toBe(-2147483648);
    expect(textParser('int8')('9007199254740991')).toBe(9007199254740991);
    expect(textParser('int8')('9007199254740993')).toBe(9007199254740993n);
    expect(textParser('int8')('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(textParser('float8')('0.1')).toBe(0.1);
    expect(textParser('float8')('1.7976931348623157e+308')).toBe(Number.MAX_VALUE);
    expect(textParser('float8')('NaN')).toBeNaN();
    expect(textParser('float8')('-Infinity')).toBe(-Infinity);
    expect(Object.is(textParser('float8')('-0'), -0)).toBe(true);
  });

  it('keeps numerics as exact text and flags the special values', () => {
    const big = textParser('numeric')('123456789012345678901234567890.123456789') as PgNumeric;
    expect(big.text).toBe('123456789012345678901234567890.123456789');
    expect(big.special).toBeUndefined();
    expect((textParser('numeric')('NaN') as PgNumeric).special).toBe('NaN');
    expect((textParser('numeric')('-Infinity') as PgNumeric).special).toBe('-Infinity');
  });

  it('reads timestamps to the microsecond, BC dates and infinities', () => {
    expect(textParser('timestamptz')('2024-03-05 10:34:56.789012+00')).toEqual(new PgTimestamp(jsMicros(2024, 3, 5, 10, 34, 56, 789012), true));
    expect(textParser('timestamptz')('2024-03-05 12:34:56.789012+02')).toEqual(new PgTimestamp(jsMicros(2024, 3, 5, 10, 34, 56, 789012), true));
    expect(textParser('timestamptz')('1900-01-01 00:00:00+00:09:21')).toEqual(new PgTimestamp(jsMicros(1899, 12, 31, 23, 50, 39), true));
    expect(textParser('timestamp')('2024-03-05 10:34:56.5')).toEqual(new PgTimestamp(jsMicros(2024, 3, 5, 10, 34, 56, 500000), false));
    expect(textParser('timestamp')('0044-03-15 12:00:00 BC')).toEqual(new PgTimestamp(jsMicros(-43, 3, 15, 12, 0, 0), false));
    expect(textParser('timestamptz')('0044-03-15 12:00:00+00 BC')).toEqual(new PgTimestamp(jsMicros(-43, 3, 15, 12, 0, 0), true));
    // PostgreSQL's last timestamp lies beyond JavaScript's Date range, so check it through the inverse.
    const last = textParser('timestamp')('294276-12-31 23:59:59.999999') as PgTimestamp;
    expect(civilFromDays(Number(last.micros / 86_400_000_000n))).toEqual([294276, 12, 31]);
    expect(last.micros % 86_400_000_000n).toBe(86_399_999_999n);
    expect((textParser('timestamptz')('infinity') as PgTimestamp).infinite).toBe(1);
    expect((textParser('timestamp')('-infinity') as PgTimestamp).infinite).toBe(-1);
  });

  it('reads dates, times with and without zone', () => {
    expect(textParser('date')('2024-02-29')).toEqual(new PgDate(jsDays(2024, 2, 29)));
    expect(textParser('date')('0001-01-01 BC')).toEqual(new PgDate(jsDays(0, 1, 1)));
    expect((textParser('date')('-infinity') as PgDate).infinite).toBe(-1);
    expect(textParser('time')('23:59:59.999999')).toEqual(new PgTime(86_399_999_999n));
    expect(textParser('time')('24:00:00')).toEqual(new PgTime(86_400_000_000n));
    expect(textParser('timetz')('12:00:00.25+05:30')).toEqual(new PgTimeTz(43_200_250_000n, 19_800));
    expect(textParser('timetz')('12:00:00-08')).toEqual(new PgTimeTz(43_200_000_000n, -28_800));
  });

  it('reads ISO 8601 intervals part by part', () => {
    expect(textParser('interval')('P1Y2M-3DT4H5M6.5S')).toEqual(new PgInterval(14, -3, 14_706_500_000n));
    expect(textParser('interval')('PT0S')).toEqual(new PgInterval(0, 0, 0n));
    expect(textParser('interval')('P-1Y-2M3DT-4H-5M-6.000001S')).toEqual(new PgInterval(-14, 3, -14_706_000_001n));
    expect(textParser('interval')('P178000000Y')).toEqual(new PgInterval(2_136_000_000, 0, 0n));
  });

  it('reads bytea in hex and escape form, uuid lowercased', () => {
    expect(textParser('bytea')('\\x00ff10')).toEqual(Buffer.from([0, 255, 16]));
    expect(textParser('bytea')('a\\\\b\\000\\377')).toEqual(Uint8Array.from([97, 92, 98, 0, 255]));
    expect(textParser('uuid')('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  it('reads arrays with quoting, NULLs, nesting and bounds', () => {
    expect(parseArrayText('{}')).toEqual([]);
    expect(parseArrayText('{1,2,NULL}')).toEqual(['1', '2', null]);
    expect(parseArrayText('{"a b","c\\"d","NULL",""}')).toEqual(['a b', 'c"d', 'NULL', '']);
    expect(parseArrayText('{{1,2},{3,4}}')).toEqual([['1', '2'], ['3', '4']]);
    expect(parseArrayText('[0:1]={7,8}')).toEqual(['7', '8']);
    expect(textParser('array', 'int8')('{1,NULL,9223372036854775807}')).toEqual([1, null, 9223372036854775807n]);
    expect(textParser('array', 'timestamptz')('{"2024-01-01 00:00:00+00"}')).toEqual([new PgTimestamp(jsMicros(2024, 1, 1, 0, 0, 0), true)]);
  });

  it('refuses text that does not parse, without quoting it', () => {
    expect(() => textParser('timestamptz')('05/03/2024 10:00')).toThrow(ValueParseError);
    expect(() => textParser('timestamptz')('05/03/2024 10:00')).toThrow('text of length 16 does not parse as timestamptz');
    expect(() => textParser('bool')('yes')).toThrow(ValueParseError);
    expect(() => textParser('array', 'int4')('{1,2')).toThrow(ValueParseError);
  });
});
