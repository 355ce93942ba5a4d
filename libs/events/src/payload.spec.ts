import { encode, ExtData } from '@msgpack/msgpack';
import { createDecoder, createEncoder } from './codec';
import { decodePayload, encodePayload } from './payload';
import { PayloadReader } from './payload-reader';
import { ColumnSchema, numericPrecision, ValueKind } from './value-kind';
import { CdcValue, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, TIMESTAMP_INFINITY, TIMESTAMP_MINUS_INFINITY, UNCHANGED_TOAST } from './values';

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

/** The generic decoder is the reference: the reader must give deep-equal values of the same types. */
function expectSameAsGeneric(bytes: Uint8Array, columns: readonly ColumnSchema[]): void {
  const expected = decodePayload(createDecoder(), bytes, columns);
  const actual = new PayloadReader().read(bytes, columns);
  expect(actual).toEqual(expected);
  for (const side of ['after', 'before'] as const) {
    (expected[side] ?? []).forEach((value, i) => {
      expect(typeof actual[side]![i]).toBe(typeof value);
      if (typeof value === 'number') expect(Object.is(actual[side]![i], value)).toBe(true);
    });
  }
}

describe('PayloadReader', () => {
  const encoder = createEncoder();

  it('decodes every value kind as the generic decoder does', () => {
    const kinds: ColumnSchema[] = [
      column('int4', 'int4'), column('int4', 'int4'), column('int8', 'int8'), column('int8', 'int8'), column('int8', 'int8'), column('int8', 'int8'), column('int2', 'int2'),
      column('float8', 'float8'), column('float8', 'float8'), column('float8', 'float8'), column('float4', 'float4'), column('float8', 'float8'),
      column('numeric', 'numeric'), column('numeric', 'numeric'), column('timestamptz', 'timestamptz'), column('timestamp', 'timestamp'), column('date', 'date'), column('time', 'time'),
      column('timetz', 'timetz'), column('interval', 'interval'), column('bytea', 'bytea'), column('bytea', 'bytea'), column('text', 'text'), column('text', 'text'),
      column('text', 'text'), column('text', 'text'), column('jsonb', 'jsonb'), column('array', 'array', 'int8'), column('array', 'array', 'text'), column('bool', 'bool'),
      column('bool', 'bool'), column('text', 'text'), column('uuid', 'uuid'),
    ];
    const row: CdcValue[] = [
      0, -1, 5_000_000_000, 9007199254740993n, -9007199254740993n, 127, -32_768,
      0.1, 1e10, -0, 1.5, Number.NaN,
      new PgNumeric('12345678901234567890.000000000001'), new PgNumeric('-0.5'), new PgTimestamp(1_709_634_896_789_012n, true), new PgTimestamp(TIMESTAMP_MINUS_INFINITY, false), new PgDate(-719_528), new PgTime(86_400_000_000n),
      new PgTimeTz(1n, -3600), new PgInterval(-14, 3, -1n), Uint8Array.from([0, 1, 255]), new Uint8Array(70_000).fill(7), '', 'žluťoučký kůň',
      'x'.repeat(300), 'y'.repeat(70_000), '{"a": [1, 2]}', [1, null, 9007199254740993n], [['a', 'b'], ['c', null]], true,
      false, UNCHANGED_TOAST, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ];
    const wide = Array.from({ length: 20 }, () => row).flat();
    const wideColumns = Array.from({ length: 20 }, () => kinds).flat();
    expectSameAsGeneric(encodePayload(encoder, { after: row, before: row, beforeIsKeyOnly: true }, kinds.map((c) => c.kind)), kinds);
    expectSameAsGeneric(encodePayload(encoder, { after: wide }, wideColumns.map((c) => c.kind)), wideColumns);
    expectSameAsGeneric(encodePayload(encoder, { before: row.map(() => null) }, kinds.map((c) => c.kind)), kinds);
    expectSameAsGeneric(encodePayload(encoder, { truncate: { cascade: true, restartIdentity: false } }, []), []);
  });

  it('decodes integers at every width and floats written as float32', () => {
    const values = [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), 2 ** 40, -(2 ** 40)];
    const columns = values.map(() => column('int4', 'int4'));
    expectSameAsGeneric(encodePayload(encoder, { after: values }, columns.map((c) => c.kind)), columns);
    const floats = encode({ a: [1.5, -2.25] }, { forceFloat32: true });
    expectSameAsGeneric(floats, [column('float4', 'float4'), column('float4', 'float4')]);
    const unsigned64 = encode({ a: [2n ** 63n + 5n] }, { useBigInt64: true });
    expectSameAsGeneric(unsigned64, [column('numeric', 'numeric')]);
  });

  it('keeps an extension it does not know as ExtData, like the generic decoder', () => {
    const bytes = encode({ a: [new ExtData(42, Uint8Array.of(1, 2, 3))] });
    const payload = new PayloadReader().read(bytes, [column('text', 'text')]);
    expect(payload.after?.[0]).toEqual(new ExtData(42, Uint8Array.of(1, 2, 3)));
  });

  it('refuses truncated payloads, trailing bytes and unknown types', () => {
    const bytes = encodePayload(encoder, { after: ['hello', 5_000_000_000] }, ['text', 'int8']);
    const reader = new PayloadReader();
    expect(() => reader.read(bytes.subarray(0, bytes.length - 2), [column('text', 'text'), column('int8', 'int8')])).toThrow(/ends early/);
    expect(() => reader.read(Buffer.concat([bytes, Buffer.of(0)]), [column('text', 'text'), column('int8', 'int8')])).toThrow(/after its value/);
    expect(() => reader.read(Uint8Array.of(0x91, 0xc1), [])).toThrow(/unknown MessagePack type/);
    // A date extension of one byte instead of four: both decoders refuse it.
    const shortDate = Uint8Array.of(0x81, 0xa1, 0x61, 0x92, 0xd4, 0x04, 0x00, 0x07);
    expect(() => decodePayload(createDecoder(), shortDate, [column('day', 'date'), column('n', 'int4')])).toThrow();
    expect(() => reader.read(shortDate, [column('day', 'date'), column('n', 'int4')])).toThrow(/too few/);
    // The reader is reused: a failure leaves it able to read the next payload.
    expect(reader.read(bytes, [column('text', 'text'), column('int8', 'int8')]).after).toEqual(['hello', 5_000_000_000n]);
  });
});
