import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UNCHANGED_TOAST } from '@philotes/events';
import { cdcValueToJson, rowToJson } from './json-view';
import { parseDateText, parseIntervalText, parseTimestampText } from './datetime';

describe('cdcValueToJson', () => {
  it('keeps exact values as PostgreSQL writes them', () => {
    expect(cdcValueToJson(9_007_199_254_740_993n)).toBe('9007199254740993');
    expect(cdcValueToJson(new PgNumeric('12345678901234567890.000000000001'))).toBe('12345678901234567890.000000000001');
    expect(cdcValueToJson(new PgNumeric('NaN'))).toBe('NaN');
    expect(cdcValueToJson(Number.NaN)).toBe('NaN');
    expect(cdcValueToJson(-Infinity)).toBe('-Infinity');
    expect(cdcValueToJson(1.5)).toBe(1.5);
    expect(cdcValueToJson(new Uint8Array([0, 0xab, 0xff]))).toBe('\\x00abff');
    expect(cdcValueToJson('{"n": 12345678901234567890}')).toBe('{"n": 12345678901234567890}');
    expect(cdcValueToJson([1, null, [2n]])).toEqual([1, null, ['2']]);
  });

  it('writes dates and times in ISO form to the microsecond, with infinities and BC', () => {
    for (const text of ['2024-02-29', '0001-01-01', '0044-03-15 BC', 'infinity', '-infinity']) {
      expect(cdcValueToJson(new PgDate(parseDateText(text)!))).toBe(text);
    }
    for (const text of ['2024-02-29 23:59:59.999999', '1969-12-31 23:59:59.5', '2000-01-01 00:00:00', 'infinity']) {
      expect(cdcValueToJson(new PgTimestamp(parseTimestampText(text, false)!, false))).toBe(text);
    }
    expect(cdcValueToJson(new PgTimestamp(parseTimestampText('2024-05-01 10:00:00.25+00', true)!, true))).toBe('2024-05-01 10:00:00.25+00');
    expect(cdcValueToJson(new PgTime(86_400_000_000n))).toBe('24:00:00');
    expect(cdcValueToJson(new PgTimeTz(3_600_000_001n, -19_800))).toBe('01:00:00.000001-05:30');
  });

  it('writes intervals in PostgreSQL’s own style, keeping months, days and time apart', () => {
    expect(cdcValueToJson(new PgInterval(14, 3, 4_500_000n))).toBe('1 year 2 mons 3 days 00:00:04.5');
    expect(cdcValueToJson(new PgInterval(0, 0, 0n))).toBe('00:00:00');
    const parsed = parseIntervalText('P-1M-2DT-3H')!;
    expect(cdcValueToJson(new PgInterval(parsed.months, parsed.days, parsed.micros))).toBe('-1 mons -2 days -03:00:00');
  });

  it('marks an unchanged TOAST value rather than inventing one', () => {
    expect(cdcValueToJson(UNCHANGED_TOAST)).toEqual({ unchanged_toast: true });
  });

  it('names each value by its column', () => {
    const column = (name: string) => ({ name, typeOid: 23, typeModifier: -1, typeName: 'int4', kind: 'int4' as const, key: false });
    expect(rowToJson([column('id'), column('n')], [1, null])).toEqual({ id: 1, n: null });
  });
});
