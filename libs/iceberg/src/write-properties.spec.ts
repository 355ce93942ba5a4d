import * as parquet from 'parquet-wasm/node';
import { writeParquetFile } from './parquet/parquet-file';
import { DEFAULT_PARQUET_OPTIONS, effectiveProperties, parquetOptionsOf, sameProperties, targetFileSizeOf, WRITE_PROPERTIES } from './write-properties';

describe('table write properties', () => {
  it('layers: recorded < global settings < the table setting; a codec without a level drops the level below', () => {
    const recorded = { [WRITE_PROPERTIES.codec]: 'gzip', [WRITE_PROPERTIES.level]: '9', [WRITE_PROPERTIES.pageBytes]: '4096', 'engine.x': 'kept' };
    const global = { [WRITE_PROPERTIES.codec]: 'zstd', [WRITE_PROPERTIES.rowGroupBytes]: '1048576' };
    const table = { [WRITE_PROPERTIES.rowGroupBytes]: '65536' };
    expect(effectiveProperties(recorded, global, table)).toEqual({
      [WRITE_PROPERTIES.codec]: 'zstd',
      [WRITE_PROPERTIES.pageBytes]: '4096',
      [WRITE_PROPERTIES.rowGroupBytes]: '65536',
      'engine.x': 'kept',
    });
    expect(effectiveProperties(recorded, {}, { [WRITE_PROPERTIES.codec]: 'zstd', [WRITE_PROPERTIES.level]: '3' })).toMatchObject({ [WRITE_PROPERTIES.codec]: 'zstd', [WRITE_PROPERTIES.level]: '3' });
    // No setting at all: the table's recorded properties stand (another engine may have set them).
    expect(sameProperties(effectiveProperties(recorded, {}, {}), recorded)).toBe(true);
  });

  it('reads the Parquet options from the properties, falling back per option for values it cannot use', () => {
    expect(parquetOptionsOf({})).toEqual(DEFAULT_PARQUET_OPTIONS);
    expect(parquetOptionsOf({ [WRITE_PROPERTIES.codec]: 'ZSTD', [WRITE_PROPERTIES.level]: '9', [WRITE_PROPERTIES.rowGroupBytes]: '8192', [WRITE_PROPERTIES.pageBytes]: '1024' })).toEqual({ codec: 'zstd', level: 9, rowGroupBytes: 8192, pageBytes: 1024 });
    expect(parquetOptionsOf({ [WRITE_PROPERTIES.codec]: 'lzo', [WRITE_PROPERTIES.rowGroupBytes]: '64MB', [WRITE_PROPERTIES.pageBytes]: '0' })).toEqual(DEFAULT_PARQUET_OPTIONS);
    expect(targetFileSizeOf({ [WRITE_PROPERTIES.targetFileSize]: '134217728' }, 1)).toBe(134217728);
    expect(targetFileSizeOf({ [WRITE_PROPERTIES.targetFileSize]: 'big' }, 42)).toBe(42);
  });

  it('writes files with the codec and row group size asked for', async () => {
    const id = { id: 1, name: 'id', required: true, type: 'long' as const };
    const text = { id: 2, name: 'v', required: false, type: 'string' as const };
    const rows = 5_000;
    const columns = [
      { field: id, values: Array.from({ length: rows }, (_, i) => BigInt(i)) },
      { field: text, values: Array.from({ length: rows }, (_, i) => `value ${i % 97}`) },
    ];
    const schema = { type: 'struct' as const, 'schema-id': 0, fields: [id, text] };
    const written = await writeParquetFile(schema, columns, { parquet: { codec: 'gzip', rowGroupBytes: 16 * 1024, pageBytes: 1024 } });
    const file = await parquet.ParquetFile.fromFile(new Blob([written.bytes]));
    const groups = file.metadata().rowGroups();
    expect(groups.length).toBeGreaterThan(3);
    for (const group of groups) expect(group.columns().map((c) => c.compression())).toEqual([parquet.Compression.GZIP, parquet.Compression.GZIP]);
    // Near the size asked for in encoded, uncompressed bytes (the measure is per row, so not exact).
    for (const group of groups.slice(0, -1)) {
      expect(group.totalByteSize()).toBeLessThanOrEqual(16 * 1024 * 1.25);
      expect(group.totalByteSize()).toBeGreaterThanOrEqual(16 * 1024 * 0.6);
    }
    expect(groups.reduce((n, g) => n + g.numRows(), 0)).toBe(rows);

    const plain = await writeParquetFile(schema, columns);
    const defaults = (await parquet.ParquetFile.fromFile(new Blob([plain.bytes]))).metadata().rowGroups();
    expect(defaults).toHaveLength(1);
    expect(defaults[0].column(0).compression()).toBe(parquet.Compression.ZSTD);
  });
});
