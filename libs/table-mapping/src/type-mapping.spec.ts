import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, TIMESTAMP_INFINITY } from '@philotes/events';
import { column, numericModifier } from './mapping-fixtures';
import { converterFor, icebergTypeFor, intervalText, isPromotion, PoisonValueError } from './type-mapping';

describe('icebergTypeFor', () => {
  it.each([
    ['bool', 'boolean'],
    ['int2', 'int'],
    ['int4', 'int'],
    ['int8', 'long'],
    ['float4', 'float'],
    ['float8', 'double'],
    ['text', 'string'],
    ['uuid', 'string'],
    ['jsonb', 'string'],
    ['interval', 'string'],
    ['bytea', 'binary'],
    ['date', 'date'],
    ['time', 'time'],
    ['timetz', 'time'],
    ['timestamp', 'timestamp'],
    ['timestamptz', 'timestamptz'],
  ] as const)('maps %s to %s', (kind, type) => {
    expect(icebergTypeFor(column('c', kind), false)).toBe(type);
  });

  it('maps numeric(p,s) to decimal(p,s), unbounded numeric to decimal(38,9), and p > 38 to string', () => {
    expect(icebergTypeFor(column('n', 'numeric', { typeModifier: numericModifier(12, 3) }), false)).toBe('decimal(12, 3)');
    expect(icebergTypeFor(column('n', 'numeric'), false)).toBe('decimal(38, 9)');
    expect(icebergTypeFor(column('n', 'numeric', { typeModifier: numericModifier(50, 2) }), false)).toBe('string');
  });

  it('maps arrays to lists of their element type, and honours text overrides', () => {
    expect(icebergTypeFor(column('a', 'array', { element: { kind: 'int4', typeOid: 23, typeName: 'int4' } }), false)).toEqual({
      type: 'list',
      'element-id': 0,
      'element-required': false,
      element: 'int',
    });
    expect(icebergTypeFor(column('i', 'int4'), true)).toBe('string');
    expect(icebergTypeFor(column('m', 'text', { textFallback: true }), false)).toBe('string');
  });
});

describe('converterFor', () => {
  const decimal = (p: number, s: number, policy: 'reject' | 'null' = 'reject') => converterFor(column('n', 'numeric'), `decimal(${p}, ${s})`, policy, 'public.t.n');

  it('converts decimals exactly to their unscaled value', () => {
    expect(decimal(12, 3)(new PgNumeric('1234.5'))).toBe(1_234_500n);
    expect(decimal(12, 3)(new PgNumeric('-0.001'))).toBe(-1n);
    expect(decimal(38, 9)(new PgNumeric('12345678901234567890123456789.12345678'))).toBe(12345678901234567890123456789123456780n);
    expect(() => decimal(38, 9)(new PgNumeric('123456789012345678901234567890'))).toThrow(/more than 38 digits/);
    expect(decimal(12, 3)(new PgNumeric('1.2000000'))).toBe(1_200n);
  });

  it('gives every short decimal the exact unscaled value, at each scale and at the precision limit', () => {
    // Small values take a path without bigint arithmetic; compare with string arithmetic here.
    const unscaledOf = (text: string, scale: number): bigint => {
      const negative = text.startsWith('-');
      const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
      const value = BigInt(whole + fraction.padEnd(scale, '0'));
      return negative ? -value : value;
    };
    let seed = 12345;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    for (let i = 0; i < 3_000; i++) {
      const scale = next() % 6;
      const precision = scale + 1 + (next() % 12);
      const wholeDigits = 1 + (next() % (precision - scale));
      const whole = String(next() % 10 ** Math.min(wholeDigits, 9)).padStart(1, '0');
      const fraction = scale === 0 ? '' : String(next() % 10 ** scale).padStart(next() % (scale + 1), '0');
      const text = `${next() % 2 ? '-' : ''}${whole}${fraction ? `.${fraction.slice(0, scale)}` : ''}`;
      expect([text, decimal(precision, scale)(new PgNumeric(text))]).toEqual([text, unscaledOf(text, scale)]);
    }
    expect(decimal(4, 2)(new PgNumeric('99.99'))).toBe(9_999n);
    expect(() => decimal(4, 2)(new PgNumeric('100.00'))).toThrow(/more than 4 digits/);
    expect(decimal(18, 2)(new PgNumeric('1234567890123456.78'))).toBe(123_456_789_012_345_678n);
    expect(decimal(12, 3)(new PgNumeric('-0'))).toBe(0n);
  });

  it('refuses a decimal it would round or overflow, naming the column and the fix', () => {
    expect(() => decimal(12, 3)(new PgNumeric('1.0001'))).toThrow(/public\.t\.n.*would round/);
    expect(() => decimal(4, 0)(new PgNumeric('12345'))).toThrow(PoisonValueError);
  });

  it('sends NaN to the dead letters, or writes NULL when told to', () => {
    expect(() => decimal(12, 3)(new PgNumeric('NaN'))).toThrow(/numeric NaN/);
    expect(decimal(12, 3, 'null')(new PgNumeric('Infinity'))).toBeNull();
  });

  it('refuses infinite dates and timestamps and 24:00:00 under reject', () => {
    expect(() => converterFor(column('d', 'date'), 'date', 'reject', 'c')(new PgDate(2_147_483_647))).toThrow(PoisonValueError);
    expect(() => converterFor(column('t', 'timestamp'), 'timestamp', 'reject', 'c')(new PgTimestamp(TIMESTAMP_INFINITY, false))).toThrow(PoisonValueError);
    expect(() => converterFor(column('t', 'time'), 'time', 'reject', 'c')(new PgTime(86_400_000_000n))).toThrow(PoisonValueError);
    expect(converterFor(column('d', 'date'), 'date', 'null', 'c')(new PgDate(2_147_483_647))).toBeNull();
  });

  it('turns timetz into UTC time of day', () => {
    // 12:00:00.25+05:30 is 06:30:00.25 UTC.
    const convert = converterFor(column('t', 'timetz'), 'time', 'reject', 'c');
    expect(convert(new PgTimeTz(43_200_250_000n, 19_800))).toBe(23_400_250_000n);
    // 00:00:00-08 is 08:00 UTC; 01:00+05 wraps to 20:00 the day before.
    expect(convert(new PgTimeTz(0n, -28_800))).toBe(28_800_000_000n);
    expect(convert(new PgTimeTz(3_600_000_000n, 18_000))).toBe(72_000_000_000n);
  });

  it('writes lists element by element and refuses nested arrays', () => {
    const type = icebergTypeFor(column('a', 'array', { element: { kind: 'int8', typeOid: 20, typeName: 'int8' } }), false);
    const convert = converterFor(column('a', 'array', { element: { kind: 'int8', typeOid: 20, typeName: 'int8' } }), type, 'reject', 'c');
    expect(convert([1n, null, 3n])).toEqual([1n, null, 3n]);
    expect(() => convert([[1n]])).toThrow(/multi-dimensional/);
  });
});

describe('intervalText', () => {
  it('prints ISO 8601 with PostgreSQL iso_8601 style signs', () => {
    expect(intervalText(new PgInterval(14, -3, 14_706_500_000n))).toBe('P1Y2M-3DT4H5M6.5S');
    expect(intervalText(new PgInterval(-1, 0, -1n))).toBe('P-1MT-0.000001S');
    expect(intervalText(new PgInterval(0, 0, 0n))).toBe('PT0S');
  });
});

describe('isPromotion', () => {
  it('allows what the Iceberg spec allows and nothing else', () => {
    expect(isPromotion('int', 'long')).toBe(true);
    expect(isPromotion('float', 'double')).toBe(true);
    expect(isPromotion('decimal(10, 2)', 'decimal(12, 2)')).toBe(true);
    expect(isPromotion('decimal(10, 2)', 'decimal(12, 3)')).toBe(false);
    expect(isPromotion('long', 'int')).toBe(false);
    expect(isPromotion('string', 'int')).toBe(false);
  });
});
