import { seededRandom } from '@philotes/faults';
import { newTableMetadata } from './metadata';
import { NestedField, PrimitiveType } from './schema';
import { applyTransform } from './partitioning/transforms';
import { codePointOrder, defaultSortOrder, resolveSortOrder, sortRows, SortField, withSortOrder, writableSortOrder } from './sort-order';

const field = (id: number, type: PrimitiveType, name = `c${id}`): NestedField => ({ id, name, required: false, type });

/** The reference: each value mapped to a key whose natural order is the spec's, compared plainly. */
function referenceKey(type: PrimitiveType, value: unknown): Array<number | bigint | string> {
  switch (type) {
    case 'string':
      return [...(value as string)].map((ch) => ch.codePointAt(0)!);
    case 'binary':
      return [...(value as Uint8Array)];
    case 'boolean':
      return [value ? 1 : 0];
    case 'double': {
      const x = value as number;
      // -Infinity < ... < -0 < 0 < ... < Infinity < NaN (Java's Double.compare; a NaN's sign is not kept in JavaScript).
      if (Number.isNaN(x)) return [3];
      return [0, x, Object.is(x, -0) ? -1 : x === 0 ? 1 : 0];
    }
    default:
      return [BigInt(value as number | bigint)];
  }
}

function compareKeys(a: ReadonlyArray<number | bigint | string>, b: ReadonlyArray<number | bigint | string>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function randomValue(type: PrimitiveType, random: () => number): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  if (random() < 0.15) return null;
  switch (type) {
    case 'string':
      return Array.from({ length: Math.floor(random() * 4) }, () => pick(['a', 'b', 'Z', 'é', '\uffff', '😀', '\ue000', '𝄞'])).join('');
    case 'binary':
      return Uint8Array.from({ length: Math.floor(random() * 3) }, () => pick([0, 1, 127, 128, 255]));
    case 'boolean':
      return random() < 0.5;
    case 'double':
      return pick([NaN, -Infinity, Infinity, -0, 0, -1.5, 2.25, 1e-300, -1e300]);
    case 'long':
    case 'timestamptz':
      return pick([-(2n ** 62n), -1n, 0n, 5, 2n ** 60n, Number.MAX_SAFE_INTEGER]);
    case 'decimal(38, 2)':
      return pick([-(10n ** 30n), -1n, 0n, 1n, 10n ** 37n]);
    default:
      return pick([-2147483648, -1, 0, 3, 2147483647]);
  }
}

describe('the sort comparator', () => {
  const types: PrimitiveType[] = ['string', 'binary', 'boolean', 'double', 'long', 'timestamptz', 'decimal(38, 2)', 'int', 'date'];
  const SEED = 20261203;
  it.each(Array.from({ length: 30 }, (_, i) => SEED + i))('orders generated rows as the reference does (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const fields = [0, 1, 2].map((i) => field(i + 1, types[Math.floor(random() * types.length)]));
    const sortFields: SortField[] = fields
      .filter(() => random() < 0.8)
      .map((f) => {
        const direction = random() < 0.5 ? 'asc' : 'desc';
        return { transform: 'identity', 'source-id': f.id, direction, 'null-order': random() < 0.5 ? 'nulls-first' : 'nulls-last' };
      });
    const rows = Array.from({ length: 60 }, (_, i) => [...fields.map((f) => randomValue(f.type as PrimitiveType, random)), i]);
    const sorted = sortRows(rows, [...fields, field(99, 'int')], { 'order-id': 1, fields: sortFields });

    const expected = [...rows].sort((a, b) => {
      for (const s of sortFields) {
        const index = fields.findIndex((f) => f.id === s['source-id']);
        const [x, y] = [a[index], b[index]];
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === (s['null-order'] === 'nulls-first') ? -1 : 1;
        }
        const c = compareKeys(referenceKey(fields[index].type as PrimitiveType, x), referenceKey(fields[index].type as PrimitiveType, y));
        if (c !== 0) return s.direction === 'asc' ? c : -c;
      }
      return (a[3] as number) - (b[3] as number); // stable: equal keys keep their order
    });
    expect(sorted.map((r) => r[3])).toEqual(expected.map((r) => r[3]));
  });

  it('orders strings by code point, not by UTF-16 unit', () => {
    // U+FFFF is one unit 0xFFFF; U+1F600 is the surrogate pair D83D DE00, smaller as units but larger as a code point.
    expect(codePointOrder('\uffff', '😀')).toBeLessThan(0);
    expect(codePointOrder('\ue000', '😀')).toBeLessThan(0);
    expect(codePointOrder('a', 'ab')).toBeLessThan(0);
  });

  it('skips sort fields whose column the file does not have, and leaves rows unsorted without keys', () => {
    const rows = [[2], [1]];
    expect(sortRows(rows, [field(1, 'int')], { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 7, direction: 'asc', 'null-order': 'nulls-first' }] })).toEqual([[2], [1]]);
  });
});

describe('sort orders in the metadata', () => {
  const schema = { type: 'struct' as const, 'schema-id': 0, fields: [field(1, 'long', 'id'), field(2, 'string', 'v'), { id: 3, name: 'tags', required: false, type: { type: 'list' as const, 'element-id': 4, 'element-required': false, element: 'string' as const } }] };
  const byV: SortField[] = [{ transform: 'identity', 'source-id': 2, direction: 'desc', 'null-order': 'nulls-last' }];
  const byId: SortField[] = [{ transform: 'identity', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }];

  it('adds a new order id for a new order and reuses the id of an equal one', () => {
    const fresh = newTableMetadata('mem://t', schema, {});
    expect(defaultSortOrder(fresh)).toEqual({ 'order-id': 0, fields: [] });
    const first = withSortOrder(fresh, byV);
    expect(first['default-sort-order-id']).toBe(1);
    expect(withSortOrder(first, byV)).toBe(first);
    const second = withSortOrder(first, byId);
    expect(second['default-sort-order-id']).toBe(2);
    const back = withSortOrder(second, byV);
    expect(back['default-sort-order-id']).toBe(1);
    expect(back['sort-orders'].map((o) => o['order-id'])).toEqual([0, 1, 2]);
  });

  it('writes under an order with transforms it computes, and unsorted (order 0) under one it does not know', () => {
    const bucketed = withSortOrder(newTableMetadata('mem://t', schema, {}), [{ transform: 'bucket[16]', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }]);
    expect(writableSortOrder(bucketed)['order-id']).toBe(1);
    const unknown = withSortOrder(bucketed, [{ transform: 'zorder[3]', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }]);
    expect(defaultSortOrder(unknown)['order-id']).toBe(2);
    expect(writableSortOrder(unknown)).toEqual({ 'order-id': 0, fields: [] });
    expect(writableSortOrder(withSortOrder(unknown, byV))['order-id']).toBe(3);
  });

  it('sorts by a transform’s value, then by the next field (bucket by the spec’s hash, day by UTC date)', () => {
    const fields = [field(1, 'long', 'id'), field(2, 'timestamptz', 'ts')];
    const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
    const rows = [
      [1n, micros('2026-01-02T23:00:00Z')],
      [2n, micros('2026-01-01T01:00:00Z')],
      [3n, micros('2026-01-02T01:00:00Z')],
      [4n, null],
      [5n, micros('2026-01-01T23:59:59Z')],
    ];
    const byDayThenIdDesc: SortField[] = [
      { transform: 'day', 'source-id': 2, direction: 'asc', 'null-order': 'nulls-last' },
      { transform: 'identity', 'source-id': 1, direction: 'desc', 'null-order': 'nulls-first' },
    ];
    expect(sortRows(rows, fields, { 'order-id': 1, fields: byDayThenIdDesc }).map((r) => r[0])).toEqual([5n, 2n, 3n, 1n, 4n]);
    // bucket[16] of longs 1..5 (spec, Appendix B: hash of the long's 8 bytes little-endian): rows in bucket order.
    const buckets = rows.map((r) => ({ id: r[0] as bigint, bucket: applyTransform({ kind: 'bucket', n: 16 }, 'long', r[0]) as number }));
    const expected = [...buckets].sort((a, b) => a.bucket - b.bucket || Number(a.id - b.id)).map((b) => b.id);
    const byBucket: SortField[] = [{ transform: 'bucket[16]', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }, { transform: 'identity', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }];
    expect(sortRows(rows, fields, { 'order-id': 2, fields: byBucket }).map((r) => r[0])).toEqual(expected);
    expect(new Set(buckets.map((b) => b.bucket)).size).toBeGreaterThan(1);
  });

  it('resolves columns by name and names the ones it cannot sort on', () => {
    expect(resolveSortOrder([{ column: 'v', direction: 'desc', nullOrder: 'nulls-last' }], schema)).toEqual({ fields: byV, problems: [] });
    expect(resolveSortOrder([{ column: 'nope', direction: 'asc', nullOrder: 'nulls-first' }, { column: 'tags', direction: 'asc', nullOrder: 'nulls-first' }], schema).problems).toEqual([
      'sort column "nope" is not a column of the table',
      'sort column "tags" is a list; only primitive columns can be sorted on',
    ]);
    expect(resolveSortOrder([{ column: 'v', transform: 'truncate[4]', direction: 'asc', nullOrder: 'nulls-first' }], schema)).toEqual({
      fields: [{ transform: 'truncate[4]', 'source-id': byV[0]['source-id'], direction: 'asc', 'null-order': 'nulls-first' }],
      problems: [],
    });
    expect(resolveSortOrder([{ column: 'v', transform: 'hour', direction: 'asc', nullOrder: 'nulls-first' }], schema).problems).toEqual(['sort field hour("v") does not apply to a column of type "string"']);
  });
});
