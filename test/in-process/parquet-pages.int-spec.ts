import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARQUET_OPTIONS, IcebergSchema, writeParquetFile } from '@philotes/iceberg';
import { chunkPages } from '../support/parquet-pages';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
  ],
};
const ROWS = 100_000;
/** parquet-wasm 0.8 (arrow-rs) closes a page at 20,000 rows whatever its size. */
const PAGE_ROW_LIMIT = 20_000;

/**
 * write.parquet.page-size-bytes reaches the files: the pages of each column chunk, read from the
 * page headers themselves (test/support/parquet-pages.ts), one file per page size asked for.
 */
describe('Parquet page size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'philotes-pages-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pagesOf = async (pageBytes: number) => {
    const columns = [
      { field: SCHEMA.fields[0], values: Array.from({ length: ROWS }, (_, i) => BigInt(i)) },
      { field: SCHEMA.fields[1], values: Array.from({ length: ROWS }, (_, i) => `name-${(i * 7919) % 100_000}`) },
    ];
    const file = await writeParquetFile(SCHEMA, columns, { parquet: { ...DEFAULT_PARQUET_OPTIONS, pageBytes } });
    const path = join(dir, `pages-${pageBytes}.parquet`);
    writeFileSync(path, file.bytes);
    const chunks = await chunkPages(path);
    expect(chunks.map((c) => [c.rowGroup, c.column, c.rows])).toEqual([
      [0, 'id', ROWS],
      [0, 'name', ROWS],
    ]);
    return new Map(chunks.map((c) => [c.column, c.dataPages]));
  };

  it('cuts every column into pages near the size asked for, and only at the row limit when they are large', async () => {
    const small = await pagesOf(1024);
    const large = await pagesOf(1024 * 1024);
    for (const column of ['id', 'name']) {
      // The writer checks the limit after each batch of 1,024 values, so a page may overshoot by a
      // batch (the few pages where a string column's dictionary gives way to plain encoding do).
      const sizes = [...small.get(column)!].sort((a, b) => a - b);
      expect([column, sizes.length > 40, sizes[Math.floor(sizes.length * 0.9)] <= 4 * 1024]).toEqual([column, true, true]);
      // 1 MiB pages: none of these chunks reaches it, so only the row limit cuts them.
      expect([column, large.get(column)!.length]).toEqual([column, Math.ceil(ROWS / PAGE_ROW_LIMIT)]);
    }
  });
});
