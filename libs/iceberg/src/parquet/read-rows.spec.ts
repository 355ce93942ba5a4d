import { NestedField } from '../schema';
import { writeParquetFile } from './parquet-file';
import { readRows } from './read-rows';

const f = (id: number, name: string, type: NestedField['type']): NestedField => ({ id, name, required: false, type });
const write = async (fields: NestedField[], columns: unknown[][]) =>
  (await writeParquetFile({ type: 'struct', 'schema-id': 0, fields }, fields.map((field, i) => ({ field, values: columns[i] })))).bytes;

describe('readRows', () => {
  it('reads every type back exactly as written', async () => {
    const fields = [
      f(1, 'b', 'boolean'),
      f(2, 'i', 'int'),
      f(3, 'l', 'long'),
      f(4, 'fl', 'float'),
      f(5, 'd', 'double'),
      f(6, 'dec', 'decimal(38, 9)'),
      f(7, 'day', 'date'),
      f(8, 't', 'time'),
      f(9, 'ts', 'timestamp'),
      f(10, 'tz', 'timestamptz'),
      f(11, 's', 'string'),
      f(12, 'bin', 'binary'),
      { id: 13, name: 'list', required: false, type: { type: 'list', 'element-id': 14, 'element-required': false, element: 'long' } },
    ] satisfies NestedField[];
    const rows = [
      [true, -2147483648, 9223372036854775807n, 1.5, -0.1, -12345678901234567890123456789123456789n, -25_567, 86_399_999_999n, -62_135_596_800_000_001n, 1_700_000_000_123_457n, 'héllo 🌍', Uint8Array.from([0, 255]), [1n, null, -3n]],
      [false, 7, -1n, Number.NaN, Infinity, 1n, 0, 0n, 0n, 1n, '', new Uint8Array(0), []],
      [null, null, null, null, null, null, null, null, null, null, null, null, null],
    ];
    const bytes = await write(fields, fields.map((_, c) => rows.map((r) => r[c])));
    expect(readRows(bytes, fields)).toEqual(rows);
  });

  it('finds columns by field id, leaves fields the file lacks NULL, and widens promoted ints', async () => {
    const bytes = await write([f(1, 'id', 'int'), f(2, 'old', 'string')], [[1, 2], ['x', 'y']]);
    // The table since: id promoted to long, field 2 renamed, a new field 3 under the old name.
    const now = [f(1, 'id', 'long'), f(3, 'old', 'int'), f(2, 'old__before_1', 'string')];
    expect(readRows(bytes, now)).toEqual([
      [1n, null, 'x'],
      [2n, null, 'y'],
    ]);
  });
});
