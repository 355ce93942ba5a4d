import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import * as zstd from '@bokuweb/zstd-wasm';
import { DEFAULT_PARQUET_OPTIONS, IcebergSchema, pageCompressor, ParquetCodec, writeParquetFile } from '@philotes/iceberg';
import { duckdb } from '../support/iceberg';
import { chunkPages } from '../support/parquet-pages';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'note', required: false, type: 'string' },
    { id: 3, name: 'amount', required: false, type: 'decimal(12, 2)' },
    { id: 4, name: 'raw', required: false, type: 'binary' },
  ],
};
const ROWS = 30_000;
const COLUMNS = [
  { field: SCHEMA.fields[0], values: Array.from({ length: ROWS }, (_, i) => BigInt(i)) },
  { field: SCHEMA.fields[1], values: Array.from({ length: ROWS }, (_, i) => (i % 11 === 0 ? null : `order ${(i * 7919) % 5000} shipped to depot ${i % 13}, ok`)) },
  { field: SCHEMA.fields[2], values: Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : BigInt((i * 31) % 100_000) - 7n)) },
  { field: SCHEMA.fields[3], values: Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? null : Uint8Array.from([i & 0xff, (i >> 8) & 0xff, 7, 7, 7]))) },
];

/** Each codec's own compressor and decompressor in this process, written apart from the writer's. */
const CODECS = {
  zstd: { name: 'ZSTD', compress: (b: Uint8Array, level: number) => zstd.compress(b, level), decompress: (b: Uint8Array) => zstd.decompress(b) },
  gzip: { name: 'GZIP', compress: (b: Uint8Array, level: number) => gzipSync(b, { level }), decompress: (b: Uint8Array) => gunzipSync(b) },
  brotli: {
    name: 'BROTLI',
    compress: (b: Uint8Array, level: number) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: level, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
    decompress: (b: Uint8Array) => brotliDecompressSync(b),
  },
} as const;

/**
 * write.parquet.compression-level reaches the files. DuckDB's Parquet reader (an independent
 * decoder) reads every file back to the same rows as the codec's default-level file; the pages,
 * walked from their own headers (test/support/parquet-pages.ts), are what the codec makes at the
 * level asked for: a page body decompressed and compressed again at that level is the same bytes,
 * and at another level it is not.
 */
describe('Parquet compression level', () => {
  const dir = mkdtempSync(join(tmpdir(), 'philotes-level-'));
  // The wasm module is loaded once, by the writer's own loader: a second init() would instantiate
  // it again under calls in flight.
  beforeAll(() => pageCompressor('zstd', 1));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = async (codec: ParquetCodec, level?: number) => {
    const file = await writeParquetFile(SCHEMA, COLUMNS, { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec, ...(level !== undefined ? { level } : {}), rowGroupBytes: 256 * 1024, pageBytes: 16 * 1024 } });
    const path = join(dir, `${codec}-${level ?? 'default'}.parquet`);
    writeFileSync(path, file.bytes);
    return path;
  };
  const contents = (path: string) =>
    duckdb<{ n: number; ids: number; notes: string; amounts: string; raws: string }>(
      `SELECT count(*)::int AS n, sum(id)::float8 AS ids, md5(string_agg(coalesce(note, '~'), '|' ORDER BY id)) AS notes,
              md5(string_agg(coalesce(amount::text, '~'), '|' ORDER BY id)) AS amounts, md5(string_agg(coalesce(hex(raw), '~'), '|' ORDER BY id)) AS raws
         FROM read_parquet('${path}')`,
    );

  it.each([
    ['zstd', 3, 12],
    ['zstd', 15, 3],
    ['gzip', 9, 1],
    ['gzip', 1, 9],
    ['brotli', 9, 2],
  ] as const)('%s at level %i: same rows, every page compressed at that level', async (codec, level, other) => {
    const path = await write(codec, level);
    const reference = await write('uncompressed');
    expect(await contents(path)).toEqual(await contents(reference));
    expect((await contents(path))[0].n).toBe(ROWS);

    const bytes = readFileSync(path);
    const plain = readFileSync(reference);
    const chunks = await chunkPages(path);
    const plainChunks = await chunkPages(reference);
    expect(chunks.length).toBeGreaterThan(SCHEMA.fields.length); // several row groups
    let differs = 0;
    chunks.forEach((chunk, c) => {
      expect(chunk.codec).toBe(CODECS[codec].name);
      expect(chunk.pages.length).toBe(plainChunks[c].pages.length);
      chunk.pages.forEach((page, p) => {
        const body = bytes.subarray(page.start, page.start + page.length);
        const plainPage = plainChunks[c].pages[p];
        const original = plain.subarray(plainPage.start, plainPage.start + plainPage.length);
        expect(Buffer.from(CODECS[codec].decompress(body)).equals(original)).toBe(true);
        expect(Buffer.from(CODECS[codec].compress(original, level)).equals(body)).toBe(true);
        if (!Buffer.from(CODECS[codec].compress(original, other)).equals(body)) differs++;
      });
    });
    // The check tells levels apart: pages come out otherwise at another level (small or
    // incompressible ones may not).
    expect(differs).toBeGreaterThan(0);
  });

  it('without a level, the codec at its default: DuckDB reads the same rows', async () => {
    for (const codec of ['zstd', 'gzip', 'brotli'] as const) {
      const path = await write(codec);
      expect((await chunkPages(path)).every((c) => c.codec === CODECS[codec].name)).toBe(true);
      expect(await contents(path)).toEqual(await contents(await write('uncompressed')));
    }
  });
});
