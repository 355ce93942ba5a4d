import { createDecoder, createEncoder } from './codec';
import { decodePayload, encodePayload } from './payload';
import { ColumnSchema, numericPrecision, ValueKind } from './value-kind';
import { CdcValue, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, TIMESTAMP_INFINITY, UNCHANGED_TOAST } from './values';

const column = (name: string, kind: ValueKind, element?: ValueKind): ColumnSchema => ({
  name,
  typeOid: 0,
  typeModifier: -1,
  typeName: kind,
  kind,
  key: false,
  ...(element ? { element: { kind: element, typeOid: 0, typeName: element } } : {}),
});

describe('payload codec', () => {
  const encoder = createEncoder();
  const decoder = createDecoder();

  const columns = [
    column('small', 'int4'),
    column('big', 'int8'),
    column('huge', 'int8'),
    column('ratio', 'float8'),
    column('whole', 'float8'),
    column('negzero', 'float8'),
    column('amount', 'numeric'),
    column('nan', 'numeric'),
    column('at', 'timestamptz'),
    column('forever', 'timestamp'),
    column('day', 'date'),
    column('clock', 'time'),
    column('zoned', 'timetz'),
    column('span', 'interval'),
    column('blob', 'bytea'),
    column('doc', 'jsonb'),
    column('tags', 'array', 'int8'),
    column('grid', 'array', 'int4'),
    column('note', 'text'),
    column('missing', 'text'),
  ];
  const row: CdcValue[] = [
    7,
    5_000_000_000,
    9007199254740993n,
    0.1,
    1e10,
    -0,
    new PgNumeric('12345678901234567890.000000000001'),
    new PgNumeric('NaN'),
    new PgTimestamp(1_709_634_896_789_012n, true),
    new PgTimestamp(TIMESTAMP_INFINITY, false),
    new PgDate(-719_528),
    new PgTime(86_400_000_000n),
    new PgTimeTz(1n, -3600),
    new PgInterval(-14, 3, -1n),
    Uint8Array.from([0, 1, 255]),
    '{"a": 1}',
    [1, null, 9007199254740993n],
    [[1, 2], [3, 4]],
    UNCHANGED_TOAST,
    null,
  ];

  it('round-trips every kind exactly, normalised to the column type', () => {
    const bytes = encodePayload(encoder, { after: row, before: row, beforeIsKeyOnly: true }, columns.map((c) => c.kind));
    const decoded = decodePayload(decoder, bytes, columns);
    const expected = [...row];
    expected[1] = 5_000_000_000n; // int8 always comes back as bigint
    expected[16] = [1n, null, 9007199254740993n];
    expect(decoded.after).toEqual(expected);
    expect(decoded.before).toEqual(expected);
    expect(decoded.beforeIsKeyOnly).toBe(true);
    expect(Object.is(decoded.after?.[5], -0)).toBe(true);
    expect(typeof decoded.after?.[4]).toBe('number');
    expect(decoded.after?.[18]).toBe(UNCHANGED_TOAST);
  });

  it('encodes a truncate', () => {
    const decoded = decodePayload(decoder, encodePayload(encoder, { truncate: { cascade: true, restartIdentity: false } }, []), []);
    expect(decoded).toEqual({ truncate: { cascade: true, restartIdentity: false } });
  });

  it('reads numeric precision and scale from the type modifier', () => {
    expect(numericPrecision(-1)).toBeUndefined();
    expect(numericPrecision(((12 << 16) | 2) + 4)).toEqual({ precision: 12, scale: 2 });
    expect(numericPrecision(((38 << 16) | 0) + 4)).toEqual({ precision: 38, scale: 0 });
  });
});
