import { acceptsType, applyTransform, bucketHash, formatTransform, humanString, parseTransform, resultType, Transform } from './transforms';

const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
const days = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const t = (text: string): Transform => parseTransform(text);

describe('bucket hashes (spec, Appendix B: the hash test values)', () => {
  it.each<[string, Parameters<typeof bucketHash>[0], unknown, number]>([
    ['int 34', 'int', 34, 2017239379],
    ['long 34', 'long', 34n, 2017239379],
    ['decimal(9,2) 14.20', 'decimal(9, 2)', 1420n, -500754589],
    ['date 2017-11-16', 'date', days('2017-11-16'), -653330422],
    ['time 22:31:08', 'time', 81_068_000_000n, -662762989],
    ['timestamp 2017-11-16T22:31:08', 'timestamp', micros('2017-11-16T22:31:08Z'), -2047944441],
    ['timestamp 2017-11-16T22:31:08.000001', 'timestamp', micros('2017-11-16T22:31:08Z') + 1n, -1207196810],
    ['timestamptz 2017-11-16T14:31:08-08:00', 'timestamptz', micros('2017-11-16T14:31:08-08:00'), -2047944441],
    ['timestamptz 2017-11-16T14:31:08.000001-08:00', 'timestamptz', micros('2017-11-16T14:31:08-08:00') + 1n, -1207196810],
    ['string iceberg', 'string', 'iceberg', 1210000089],
    ['uuid f79c3e09-677c-4bbd-a479-3f349cb785e7', 'uuid', Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex'), 1488055340],
    ['binary 00 01 02 03', 'binary', Uint8Array.of(0, 1, 2, 3), -188683207],
  ])('%s', (_, type, value, expected) => {
    expect(bucketHash(type, value)).toBe(expected);
  });

  it('reduces the hash to (hash & Integer.MAX_VALUE) % N, the same for an int and its long', () => {
    expect(applyTransform(t('bucket[16]'), 'int', 34)).toBe((2017239379 & 0x7fffffff) % 16);
    expect(applyTransform(t('bucket[16]'), 'long', 34)).toBe(applyTransform(t('bucket[16]'), 'long', 34n));
    // A negative hash: the sign bit is masked off, never a negative bucket.
    expect(applyTransform(t('bucket[7]'), 'decimal(9, 2)', 1420n)).toBe((-500754589 & 0x7fffffff) % 7);
    expect(applyTransform(t('bucket[4]'), 'string', null)).toBeNull();
  });
});

describe('truncate (spec examples)', () => {
  it.each<[string, Parameters<typeof applyTransform>[1], unknown, unknown]>([
    ['int 1', 'int', 1, 0],
    ['int -1', 'int', -1, -10],
    ['int 10', 'int', 10, 10],
    ['int -10', 'int', -10, -10],
    ['long 1', 'long', 1n, 0n],
    ['long -1', 'long', -1n, -10n],
    ['decimal 10.65 → 10.60', 'decimal(9, 2)', 1065n, 1060n],
    ['decimal -0.05 → -0.10', 'decimal(9, 2)', -5n, -10n],
  ])('%s with width 10', (_, type, value, expected) => {
    expect(applyTransform(t('truncate[10]'), type, value)).toEqual(expected);
  });

  it('keeps the first W code points of a string (not UTF-16 units) and W bytes of a binary', () => {
    expect(applyTransform(t('truncate[3]'), 'string', 'iceberg')).toBe('ice');
    expect(applyTransform(t('truncate[2]'), 'string', '😀😁😂')).toBe('😀😁');
    expect(applyTransform(t('truncate[3]'), 'string', 'ab')).toBe('ab');
    expect(applyTransform(t('truncate[2]'), 'binary', Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(1, 2));
  });
});

describe('time transforms (from 1970-01-01 in UTC, rounded down)', () => {
  it.each<[string, string, number, number, number, number]>([
    ['the epoch', '1970-01-01T00:00:00Z', 0, 0, 0, 0],
    ['a second before the epoch', '1969-12-31T23:59:59Z', -1, -1, -1, -1],
    ['2017-11-16T22:31:08', '2017-11-16T22:31:08Z', 47, 47 * 12 + 10, 17486, 17486 * 24 + 22],
    ['leap day 2020-02-29', '2020-02-29T12:00:00Z', 50, 50 * 12 + 1, 18321, 18321 * 24 + 12],
    ['1900-03-01 (not a leap year)', '1900-03-01T00:00:00Z', -70, -70 * 12 + 2, -25508, -25508 * 24],
  ])('%s', (_, iso, year, month, day, hour) => {
    const value = micros(iso);
    expect(applyTransform(t('year'), 'timestamptz', value)).toBe(year);
    expect(applyTransform(t('month'), 'timestamptz', value)).toBe(month);
    expect(applyTransform(t('day'), 'timestamp', value)).toBe(day);
    expect(applyTransform(t('hour'), 'timestamp', value)).toBe(hour);
  });

  it('takes a date in days, and a pre-1970 microsecond just before a day boundary rounds down', () => {
    expect(applyTransform(t('month'), 'date', days('1969-12-31'))).toBe(-1);
    expect(applyTransform(t('year'), 'date', days('2016-12-31'))).toBe(46);
    expect(applyTransform(t('day'), 'timestamptz', -1n)).toBe(-1);
    expect(applyTransform(t('hour'), 'timestamptz', -1n)).toBe(-1);
    expect(applyTransform(t('day'), 'timestamptz', 86_400_000_000)).toBe(1);
  });

  it('names values the way Java paths them', () => {
    expect(humanString(t('year'), 'timestamptz', 47)).toBe('2017');
    expect(humanString(t('month'), 'timestamptz', -1)).toBe('1969-12');
    expect(humanString(t('month'), 'timestamptz', 47 * 12 + 10)).toBe('2017-11');
    expect(humanString(t('day'), 'date', 17486)).toBe('2017-11-16');
    expect(humanString(t('hour'), 'timestamptz', 17486 * 24 + 22)).toBe('2017-11-16-22');
    expect(humanString(t('identity'), 'timestamptz', micros('1969-12-31T23:59:59Z') + 1n)).toBe('1969-12-31T23:59:59.000001+00:00');
    expect(humanString(t('identity'), 'decimal(9, 2)', -5n)).toBe('-0.05');
    expect(humanString(t('identity'), 'string', null)).toBe('null');
    expect(humanString(t('identity'), 'uuid', Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex'))).toBe('f79c3e09-677c-4bbd-a479-3f349cb785e7');
    expect(humanString(t('identity'), 'binary', Uint8Array.of(0, 1, 2, 3))).toBe('AAECAw==');
  });

  it('stays exact past the range of Date (PostgreSQL dates reach 5874897, timestamps 294276)', () => {
    const lastDate = 2_145_042_905; // 5874897-12-31
    expect(applyTransform(t('year'), 'date', lastDate)).toBe(5874897 - 1970);
    expect(applyTransform(t('month'), 'date', lastDate)).toBe((5874897 - 1970) * 12 + 11);
    expect(humanString(t('day'), 'date', lastDate)).toBe('+5874897-12-31');
    const lastMicro = 106_762_940n * 86_400_000_000n - 1n; // 294276-12-31T23:59:59.999999
    expect(applyTransform(t('year'), 'timestamptz', lastMicro)).toBe(294276 - 1970);
    expect(humanString(t('hour'), 'timestamptz', applyTransform(t('hour'), 'timestamptz', lastMicro))).toBe('+294276-12-31-23');
    expect(humanString(t('identity'), 'timestamp', lastMicro)).toBe('+294276-12-31T23:59:59.999999');
  });
});

describe('which types each transform takes', () => {
  it('follows the spec table, with result types int for bucket/year/month/hour and date for day', () => {
    expect(acceptsType(t('bucket[4]'), 'double')).toBe(false);
    expect(acceptsType(t('bucket[4]'), 'boolean')).toBe(false);
    expect(acceptsType(t('bucket[4]'), 'decimal(10, 2)')).toBe(true);
    expect(acceptsType(t('truncate[4]'), 'timestamp')).toBe(false);
    expect(acceptsType(t('hour'), 'date')).toBe(false);
    expect(acceptsType(t('day'), 'date')).toBe(true);
    expect(acceptsType(t('month'), 'string')).toBe(false);
    expect(acceptsType(t('identity'), 'double')).toBe(true);
    expect(acceptsType(t('identity'), { type: 'list', 'element-id': 2, 'element-required': false, element: 'int' })).toBe(false);
    expect(resultType(t('bucket[4]'), 'string')).toBe('int');
    expect(resultType(t('day'), 'timestamptz')).toBe('date');
    expect(resultType(t('month'), 'date')).toBe('int');
    expect(resultType(t('truncate[4]'), 'string')).toBe('string');
  });

  it('round-trips the metadata strings', () => {
    for (const text of ['identity', 'bucket[16]', 'truncate[4]', 'year', 'month', 'day', 'hour', 'void']) expect(formatTransform(parseTransform(text))).toBe(text);
    expect(() => parseTransform('bucket')).toThrow('unknown partition transform');
  });
});
