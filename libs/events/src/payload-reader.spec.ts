import { encode, ExtData } from '@msgpack/msgpack';
import { createDecoder, createEncoder } from './codec';
import { decodePayload, encodePayload } from './payload';
import { PayloadReader } from './payload-reader';
import { ColumnSchema, ValueKind } from './value-kind';
import { CdcValue, PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, TIMESTAMP_MINUS_INFINITY, UNCHANGED_TOAST } from './values';

const column = (kind: ValueKind, element?: ValueKind): ColumnSchema => ({
  name: kind,
  typeOid: 0,
  typeModifier: -1,
  typeName: kind,
  kind,
  key: false,
  ...(element ? { element: { kind: element, typeOid: 0, typeName: element } } : {}),
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
      column('int4'), column('int4'), column('int8'), column('int8'), column('int8'), column('int8'), column('int2'),
      column('float8'), column('float8'), column('float8'), column('float4'), column('float8'),
      column('numeric'), column('numeric'), column('timestamptz'), column('timestamp'), column('date'), column('time'),
      column('timetz'), column('interval'), column('bytea'), column('bytea'), column('text'), column('text'),
      column('text'), column('text'), column('jsonb'), column('array', 'int8'), column('array', 'text'), column('bool'),
      column('bool'), column('text'), column('uuid'),
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
    const columns = values.map(() => column('int4'));
    expectSameAsGeneric(encodePayload(encoder, { after: values }, columns.map((c) => c.kind)), columns);
    const floats = encode({ a: [1.5, -2.25] }, { forceFloat32: true });
    expectSameAsGeneric(floats, [column('float4'), column('float4')]);
    const unsigned64 = encode({ a: [2n ** 63n + 5n] }, { useBigInt64: true });
    expectSameAsGeneric(unsigned64, [column('numeric')]);
  });

  it('keeps an extension it does not know as ExtData, like the generic decoder', () => {
    const bytes = encode({ a: [new ExtData(42, Uint8Array.of(1, 2, 3))] });
    const payload = new PayloadReader().read(bytes, [column('text')]);
    expect(payload.after?.[0]).toEqual(new ExtData(42, Uint8Array.of(1, 2, 3)));
  });

  it('refuses truncated payloads, trailing bytes and unknown types', () => {
    const bytes = encodePayload(encoder, { after: ['hello', 5_000_000_000] }, ['text', 'int8']);
    const reader = new PayloadReader();
    expect(() => reader.read(bytes.subarray(0, bytes.length - 2), [column('text'), column('int8')])).toThrow(/ends early/);
    expect(() => reader.read(Buffer.concat([bytes, Buffer.of(0)]), [column('text'), column('int8')])).toThrow(/after its value/);
    expect(() => reader.read(Uint8Array.of(0x91, 0xc1), [])).toThrow(/unknown MessagePack type/);
    // The reader is reused: a failure leaves it able to read the next payload.
    expect(reader.read(bytes, [column('text'), column('int8')]).after).toEqual(['hello', 5_000_000_000n]);
  });
});
