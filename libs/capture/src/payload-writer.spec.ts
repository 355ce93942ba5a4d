import { seededRandom } from '@philotes/faults';
import { ColumnSchema, createDecoder, createEncoder, encodePayload, PackBuffer, ValueKind } from '@philotes/events';
import { textParser } from '@philotes/pg-types';
import { RawTuple, SPAN_NULL, SPAN_UNCHANGED, TupleValue, UNCHANGED } from '@philotes/pgoutput';
import { PayloadWriter, writeMicros } from './payload-writer';
import { RelationState } from './relation-registry';
import { tupleValues } from './tuple-values';

function relation(kinds: readonly ValueKind[], element?: ValueKind): RelationState {
  const columns: ColumnSchema[] = kinds.map((kind, i) => ({
    name: `c${i}`,
    typeOid: 0,
    typeModifier: -1,
    typeName: kind,
    kind,
    key: i === 0,
    ...(kind === 'array' ? { element: { kind: element ?? 'int4', typeOid: 0, typeName: element ?? 'int4' } } : {}),
  }));
  return { tableId: 1, qualifiedName: 'public.t', schemaVersion: 1, columns, kinds: [...kinds], parsers: columns.map((c) => textParser(c.kind, c.element?.kind)) };
}

/** A raw tuple as pgoutput would leave it, behind some unrelated bytes so offsets matter. */
function rawTuple(values: readonly TupleValue[]): RawTuple {
  const parts: Buffer[] = [Buffer.from('prefix')];
  const spans: number[] = [];
  let position = parts[0].length;
  for (const value of values) {
    if (value === null || value === UNCHANGED) {
      spans.push(0, value === null ? SPAN_NULL : SPAN_UNCHANGED);
      continue;
    }
    const bytes = Buffer.from(value, 'utf8');
    spans.push(position, bytes.length);
    parts.push(bytes);
    position += bytes.length;
  }
  return { buffer: Buffer.concat(parts), spans };
}

/** Both paths on the same tuples: the bytes and the columns reported as unparsable must agree. */
function expectSameAsGeneric(state: RelationState, after: TupleValue[] | undefined, before?: TupleValue[], keyOnly = false): void {
  const encoder = createEncoder();
  const genericBad: string[] = [];
  const expected = encodePayload(
    encoder,
    {
      ...(after ? { after: tupleValues(after, state, (c) => genericBad.push(c)) } : {}),
      ...(before ? { before: tupleValues(before, state, (c) => genericBad.push(c)), beforeIsKeyOnly: keyOnly } : {}),
    },
    state.kinds,
  );
  const fastBad: string[] = [];
  const actual = new PayloadWriter(encoder).write(state, after && rawTuple(after), before && rawTuple(before), keyOnly, (c) => fastBad.push(c));
  expect(Buffer.from(actual).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  expect(fastBad).toEqual(genericBad);
}

/** Each value alone in a one-column row of its kind. */
function eachAlone(kind: ValueKind, texts: readonly string[]): void {
  const state = relation([kind]);
  for (const text of texts) expectSameAsGeneric(state, [text]);
}

describe('PayloadWriter: the same bytes as the generic encoder', () => {
  it('text-like kinds, across every string header size and in UTF-8', () => {
    const texts = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(65_535), 'z'.repeat(65_536), 'žluťoučký kůň', '😀 emoji'];
    for (const kind of ['text', 'enum', 'json', 'jsonb'] as const) eachAlone(kind, texts);
    eachAlone('uuid', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11']);
  });

  it('integers at every MessagePack width, beyond 32 bits, beyond 2^53, and text that is no integer', () => {
    const edges = ['0', '1', '127', '128', '255', '256', '65535', '65536', '4294967295', '4294967296', '-1', '-32', '-33', '-128', '-129', '-32768', '-32769', '-2147483648', '-2147483649'];
    eachAlone('int2', edges.slice(0, 8));
    eachAlone('int4', edges);
    eachAlone('int8', [...edges, '999999999999999', '-999999999999999', '9007199254740991', '9007199254740992', '9223372036854775807', '-9223372036854775808', '']);
  });

  it('floats: boxed whole numbers and -0, NaN and infinities', () => {
    for (const kind of ['float4', 'float8'] as const) eachAlone(kind, ['1.5', '1', '0', '-0', '-2.25', 'NaN', 'Infinity', '-Infinity', '1e+20', '1.7976931348623157e+308', '3.4028235e+38']);
  });

  it('numeric at every extension header size, and its special values', () => {
    eachAlone('numeric', ['0', '12', '1234', '12345678', '1234567890.123456', '-123456789012345678901234567890.123', 'NaN', 'Infinity', '-Infinity', '9'.repeat(300)]);
  });

  it('bool, and a bool that does not parse (kept as text, reported)', () => {
    eachAlone('bool', ['t', 'f', 'x', 'true']);
  });

  it('dates and timestamps, with zones, fractions, eras, infinities and malformed text', () => {
    eachAlone('date', ['2024-02-29', '1970-01-01', '0001-01-01', '9999-12-31', '0044-03-15 BC', 'infinity', '-infinity', '12345-01-01', '2024-1-01', 'bad']);
    const wall = ['2024-02-29 13:45:00', '2024-02-29 13:45:00.5', '2024-02-29 13:45:00.123456', '1969-12-31 23:59:59.999999', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999'];
    eachAlone('timestamp', [...wall, '0044-03-15 12:00:00 BC', 'infinity', '-infinity', '2024-02-29 13:45:00+00', '2024-02-29 13:45:00.', '2024-02-29T13:45:00', '12345-01-01 00:00:00']);
    eachAlone('timestamptz', [
      ...wall.map((t) => `${t}+00`),
      '2024-02-29 13:45:00+05:30',
      '2024-02-29 13:45:00-03:30:15',
      '2024-02-29 13:45:00.1+14',
      '0044-03-15 12:00:00+00 BC',
      '2024-01-01 00:00:00.1234567+00',
      '2024-01-01 00:00:00+0530',
      '2024-01-01 00:00:00',
      'infinity',
    ]);
  });

  it('kinds the fast path leaves to the text parsers: arrays, intervals, times, bytea', () => {
    expectSameAsGeneric(relation(['array'], 'int4'), ['{1,2,NULL}']);
    expectSameAsGeneric(relation(['array'], 'text'), ['{{a,"b c"},{d,e}}']);
    eachAlone('interval', ['P1Y2M-3DT4H5M6.5S', 'PT0S']);
    eachAlone('time', ['13:45:00.25', '24:00:00']);
    eachAlone('timetz', ['13:45:00+02']);
    eachAlone('bytea', ['\\x', '\\xdeadbeef']);
  });

  it('rows of many columns with NULL and unchanged TOAST, as insert, update and delete layouts', () => {
    const kinds: ValueKind[] = ['int8', 'text', 'timestamptz', 'numeric', 'bool', 'float8', 'date', 'uuid', 'jsonb'];
    const state = relation(kinds);
    const row: TupleValue[] = ['42', 'hello', '2024-02-29 13:45:00.5+00', '12.50', 't', '1', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}'];
    const withHoles: TupleValue[] = ['43', null, null, UNCHANGED, 'f', null, null, null, UNCHANGED];
    const key: TupleValue[] = ['42', null, null, null, null, null, null, null, null];
    expectSameAsGeneric(state, row);
    expectSameAsGeneric(state, withHoles);
    expectSameAsGeneric(state, row, key, true);
    expectSameAsGeneric(state, row, withHoles, false);
    expectSameAsGeneric(state, undefined, key, true);
    expectSameAsGeneric(state, undefined, row, false);
    const wide = relation(Array.from({ length: 70 }, () => 'int4' as const));
    expectSameAsGeneric(wide, Array.from({ length: 70 }, (_, i) => String(i * 1000)));
  });

  it('random timestamps across the ISO range decode to the generic path`s exact microseconds', () => {
    const random = seededRandom(20261121);
    const state = relation(['timestamptz', 'timestamp', 'date']);
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    for (let i = 0; i < 2_000; i++) {
      const date = `${pad(1 + Math.floor(random() * 9999), 4)}-${pad(1 + Math.floor(random() * 12), 2)}-${pad(1 + Math.floor(random() * 28), 2)}`;
      const clock = `${pad(Math.floor(random() * 24), 2)}:${pad(Math.floor(random() * 60), 2)}:${pad(Math.floor(random() * 60), 2)}`;
      const digits = Math.floor(random() * 7);
      const fraction = digits === 0 ? '' : `.${pad(Math.floor(random() * 10 ** digits), digits)}`;
      const offset = `${random() < 0.5 ? '+' : '-'}${pad(Math.floor(random() * 15), 2)}${random() < 0.5 ? `:${pad(Math.floor(random() * 60), 2)}` : ''}`;
      expectSameAsGeneric(state, [`${date} ${clock}${fraction}${offset}`, `${date} ${clock}${fraction}`, date]);
    }
  });

  it('the payload decodes with the codec', () => {
    const state = relation(['int8', 'timestamptz', 'text']);
    const bytes = new PayloadWriter(createEncoder()).write(state, rawTuple(['9', '2000-01-01 00:00:00+00', 'x']), undefined, false, () => undefined);
    const decoded = createDecoder().decode(bytes) as { a: unknown[] };
    expect(decoded.a[0]).toBe(9);
    expect(decoded.a[1]).toMatchObject({ micros: 946_684_800_000_000n, zoned: true });
    expect(decoded.a[2]).toBe('x');
  });
});

describe('writeMicros', () => {
  it('writes seconds * 1e6 + micros as the exact int64, far beyond 2^53 and before 1970', () => {
    const random = seededRandom(7);
    const out = new PackBuffer();
    const cases: Array<[number, number]> = [
      [0, 0],
      [-1, 999_999],
      [253_402_300_799, 999_999],
      [-62_135_596_800, 0],
    ];
    for (let i = 0; i < 5_000; i++) cases.push([Math.floor((random() - 0.5) * 2 * 400_000_000_000), Math.floor(random() * 1_000_000)]);
    for (const [seconds, micros] of cases) {
      out.reset();
      writeMicros(out, seconds, micros);
      expect(out.take().readBigInt64BE(0)).toBe(BigInt(seconds) * 1_000_000n + BigInt(micros));
    }
  });
});
