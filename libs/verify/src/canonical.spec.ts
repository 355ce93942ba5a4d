import { BucketSums, cellText, rowText } from './canonical';

describe('canonical cells', () => {
  it('treats an int and a long of the same value alike, and floats as Iceberg stores them', () => {
    expect(cellText(5, 'int')).toBe(cellText(5n, 'long'));
    expect(cellText(1.1, 'float')).toBe(cellText(Math.fround(1.1), 'float'));
    expect(cellText(1.1, 'double')).not.toBe(cellText(Math.fround(1.1), 'double'));
    expect(cellText(null, 'string')).not.toBe(cellText('', 'string'));
    expect(cellText(new Uint8Array([1, 255]), 'binary')).toBe('b01ff');
    expect(cellText([1, null], { type: 'list', 'element-id': 3, element: 'int', 'element-required': false })).toBe('[n1,\u2205]');
  });

  it('compares only the given fields', () => {
    const fields = [{ id: 1, name: 'a', required: false, type: 'int' as const }, { id: 2, name: 'b', required: false, type: 'string' as const }];
    expect(rowText([1, 'x'], fields, [0])).toBe(rowText([1, 'y'], fields, [0]));
    expect(rowText([1, 'x'], fields, [0, 1])).not.toBe(rowText([1, 'y'], fields, [0, 1]));
  });
});

describe('bucket sums', () => {
  it('agree on the same rows in any order, and find the bucket of a changed, missing or duplicated row', () => {
    const a = new BucketSums(16);
    const b = new BucketSums(16);
    const rows = Array.from({ length: 100 }, (_, i) => [`k${i}`, `v${i}`] as const);
    rows.forEach(([k, v]) => a.add(k, v));
    [...rows].reverse().forEach(([k, v]) => b.add(k, v));
    expect(a.differing(b).size).toBe(0);

    const changed = new BucketSums(16);
    rows.forEach(([k, v]) => changed.add(k, k === 'k7' ? 'other' : v));
    expect([...a.differing(changed)]).toEqual([BucketSums.bucketOf('k7', 16)]);

    const duplicated = new BucketSums(16);
    rows.forEach(([k, v]) => duplicated.add(k, v));
    duplicated.add('k9', 'v9');
    expect([...a.differing(duplicated)]).toEqual([BucketSums.bucketOf('k9', 16)]);
  });
});
