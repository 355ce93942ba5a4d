import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import * as zstd from '@bokuweb/zstd-wasm';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { seededRandom } from '@philotes/faults';
import { IcebergSchema, IcebergType, NestedField } from '../schema';
import { DEFAULT_PARQUET_OPTIONS, ParquetOptions } from '../write-properties';
import { pageCompressor } from './page-codecs';
import { compressPages, LeveledCodec } from './page-compression';
import { readParquetFile, writeParquetFile } from './parquet-file';
import { decodeStruct, ThriftStruct } from './thrift-compact';

const CODEC_ID: Record<LeveledCodec, number> = { gzip: 2, brotli: 4, zstd: 6 };
const LEVELS: Record<LeveledCodec, readonly number[]> = { zstd: [1, 3, 9, 15], gzip: [0, 1, 6, 9], brotli: [0, 4, 9] };

const TYPES: readonly IcebergType[] = ['boolean', 'int', 'long', 'double', 'date', 'timestamptz', 'string', 'binary', 'decimal(12, 2)'];

/** A value of a type; `repeat` makes columns compressible (the level then matters). */
function value(type: IcebergType, random: () => number, repeat: boolean): unknown {
  const n = Math.floor(random() * (repeat ? 20 : 1e9));
  if (typeof type === 'object') return Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.2 ? null : n));
  switch (type) {
    case 'boolean':
      return n % 2 === 0;
    case 'int':
    case 'date':
      return n;
    case 'long':
    case 'timestamptz':
      return BigInt(n) * 1000n;
    case 'double':
      return n / 7;
    case 'string':
      return `value-${n}-${'x'.repeat(n % 30)}-é`;
    case 'binary':
      return Uint8Array.from({ length: n % 40 }, (_, i) => (i * n) & 0xff);
    default:
      return BigInt(n) * 100n - 5n; // decimal, unscaled
  }
}

function generated(seed: number) {
  const random = seededRandom(seed);
  const fields: NestedField[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => {
    const list = random() < 0.15;
    const element = TYPES[Math.floor(random() * TYPES.length)];
    const type: IcebergType = list ? { type: 'list', 'element-id': 100 + i, element: 'int', 'element-required': false } : element;
    return { id: i + 1, name: `c${i}`, required: i === 0, type };
  });
  const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields };
  const sizes = [0, 1, 2, 50, 1000, 4000];
  const rows = sizes[Math.floor(random() * sizes.length)];
  const repeat = random() < 0.7;
  const columns = fields.map((field) => ({
    field,
    values: Array.from({ length: rows }, () => (!field.required && random() < 0.2 ? null : value(field.type, random, repeat))),
  }));
  const layout: ParquetOptions = { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed', rowGroupBytes: 2 ** (10 + Math.floor(random() * 10)), pageBytes: 2 ** (8 + Math.floor(random() * 10)) };
  const codec = (['zstd', 'gzip', 'brotli'] as const)[Math.floor(random() * 3)];
  const level = LEVELS[codec][Math.floor(random() * LEVELS[codec].length)];
  return { schema, columns, layout, codec, level };
}

/** The rewritten file, or the reason it fell back as a failure. */
async function compressed(file: Uint8Array, codec: LeveledCodec, level: number): Promise<Uint8Array> {
  const result = await compressPages(file, codec, await pageCompressor(codec, level));
  if (!('bytes' in result)) throw new Error(`fell back: ${result.fallback}`);
  return result.bytes;
}

function footerOf(bytes: Uint8Array): ThriftStruct {
  const length = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
  return decodeStruct(bytes, bytes.length - 8 - length).struct;
}

const structs = (struct: ThriftStruct | undefined, id: number) => (struct?.list(id)?.items ?? []) as ThriftStruct[];
const chunksOf = (footer: ThriftStruct) => structs(footer, 4).flatMap((group) => structs(group, 1));

const decompress: Record<LeveledCodec, (bytes: Uint8Array) => Uint8Array> = {
  gzip: (bytes) => gunzipSync(bytes),
  brotli: (bytes) => brotliDecompressSync(bytes),
  zstd: (bytes) => zstd.decompress(bytes),
};

/** Every page of a file from the footer's chunks: [header, body] with the body's offset. */
function pagesOf(bytes: Uint8Array): Array<{ header: ThriftStruct; start: number; body: Uint8Array }> {
  return chunksOf(footerOf(bytes)).flatMap((chunk) => {
    const meta = chunk.struct(3)!;
    const start = Math.min(meta.number(11) ?? Infinity, meta.number(9)!);
    const end = start + meta.number(7)!;
    const pages = [];
    for (let at = start; at < end; ) {
      const { struct: header, end: bodyStart } = decodeStruct(bytes, at);
      const body = bytes.subarray(bodyStart, bodyStart + header.number(3)!);
      pages.push({ header, start: at, body });
      at = bodyStart + body.length;
    }
    return pages;
  });
}

describe('compressPages', () => {
  // Loaded once, by the writer's loader (a second init() re-instantiates it under calls in flight).
  beforeAll(() => pageCompressor('zstd', 1));

  const SEED = 20261202;
  it.each(Array.from({ length: 40 }, (_, i) => SEED + i))('compresses every page of a generated file at the level asked for, rows unchanged (seed %i)', async (seed) => {
    const { schema, columns, layout, codec, level } = generated(seed);
    const plain = (await writeParquetFile(schema, columns, { parquet: layout })).bytes;
    const file = await compressed(plain, codec, level);

    // The same rows, read back by parquet-wasm.
    expect(arrow.tableToIPC(readParquetFile(file))).toEqual(arrow.tableToIPC(readParquetFile(plain)));

    // Every chunk says the codec; every page body is what the codec makes of the plain page at
    // that level (compressing the decompressed body again gives the same bytes).
    const before = pagesOf(plain);
    const after = pagesOf(file);
    expect(after.length).toBe(before.length);
    for (const chunk of chunksOf(footerOf(file))) expect(chunk.struct(3)!.number(4)).toBe(CODEC_ID[codec]);
    const compress = await pageCompressor(codec, level);
    for (const [i, page] of after.entries()) {
      expect(decompress[codec](page.body)).toEqual(before[i].body);
      expect(await compress(before[i].body)).toEqual(page.body);
      expect(page.header.number(2)).toBe(before[i].header.number(2)); // uncompressed size kept
    }
    // Sizes in the footer: a chunk's are its headers with its bodies, compressed and not; a row
    // group's total_byte_size the sum of its chunks' uncompressed sizes.
    for (const group of structs(footerOf(file), 4)) {
      let groupBytes = 0;
      for (const chunk of structs(group, 1)) {
        const meta = chunk.struct(3)!;
        const start = Math.min(meta.number(11) ?? Infinity, meta.number(9)!);
        const pages = after.filter((p) => p.start >= start && p.start < start + meta.number(7)!);
        const headers = pages.reduce((n, p) => n + (p.body.byteOffset - file.byteOffset - p.start), 0);
        expect(meta.number(7)).toBe(headers + pages.reduce((n, p) => n + p.body.length, 0));
        expect(meta.number(6)).toBe(headers + pages.reduce((n, p) => n + p.header.number(2)!, 0));
        groupBytes += meta.number(6)!;
      }
      expect(group.number(2)).toBe(groupBytes);
    }

    // The offset indexes name the moved pages: each location is a page start, its size the
    // header and body together.
    const starts = new Map(after.map((p) => [p.start, p.body.byteOffset - file.byteOffset + p.body.length - p.start]));
    const indexed = chunksOf(footerOf(file)).filter((chunk) => chunk.number(4) !== undefined);
    if (columns[0].values.length > 0) expect(indexed.length).toBeGreaterThan(0);
    for (const chunk of indexed) {
      const offset = chunk.number(4)!;
      const { struct: index, end } = decodeStruct(file, offset);
      expect(end - offset).toBe(chunk.number(5));
      for (const location of structs(index, 1)) expect(starts.get(location.number(1)!)).toBe(location.number(2));
    }
  });

  it('keeps the levels of a v2 data page uncompressed ahead of its compressed values', async () => {
    const { schema, columns } = generated(SEED + 7);
    const v1 = (await writeParquetFile(schema, columns, { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed' } })).bytes;
    const properties = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.UNCOMPRESSED).setWriterVersion(parquet.WriterVersion.V2).setDataPageSizeLimit(512).build();
    const plain = parquet.writeParquet(parquet.readParquet(v1), properties);
    const file = await compressed(plain, 'zstd', 5);
    expect(arrow.tableToIPC(readParquetFile(file))).toEqual(arrow.tableToIPC(readParquetFile(plain)));
    const v2 = pagesOf(file).filter((p) => p.header.number(1) === 3);
    expect(v2.length).toBeGreaterThan(0);
    for (const page of v2) expect(page.header.struct(8)!.get(7)).toBe(true);
  });

  it('lets the event loop turn while it compresses (health checks and heartbeats run meanwhile)', async () => {
    const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'long' }] };
    const rows = Array.from({ length: 100_000 }, (_, i) => BigInt(i));
    const plain = (await writeParquetFile(schema, [{ field: schema.fields[0], values: rows }], { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed', pageBytes: 4096 } })).bytes;
    const zstd3 = await pageCompressor('zstd', 3);
    // A compressor that holds the thread 20 ms a page, as a high level does: without turns, no timer could fire.
    const slow = async (page: Uint8Array) => {
      const until = performance.now() + 20;
      while (performance.now() < until);
      return zstd3(page);
    };
    expect(pagesOf(plain).length).toBeGreaterThan(10);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      expect('bytes' in (await compressPages(plain, 'zstd', slow))).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('applies the level: a higher one makes a compressible file smaller', async () => {
    const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'note', required: false, type: 'string' }] };
    const columns = [{ field: schema.fields[0], values: Array.from({ length: 20_000 }, (_, i) => `order ${i % 1000} shipped to warehouse ${(i * 7) % 13}, status ok`) }];
    const plain = (await writeParquetFile(schema, columns, { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed' } })).bytes;
    for (const [codec, low, high] of [['zstd', 1, 15], ['gzip', 1, 9], ['brotli', 0, 9]] as const) {
      const small = await compressed(plain, codec, high);
      const large = await compressed(plain, codec, low);
      expect(small.length).toBeLessThan(large.length);
    }
  }, 60_000);

  it('gives up on a layout it does not know, so the caller writes the codec at its default level', async () => {
    const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'long' }] };
    const plain = (await writeParquetFile(schema, [{ field: schema.fields[0], values: [1n, 2n, 3n] }], { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed' } })).bytes;
    const compress = await pageCompressor('zstd', 3);
    // Bytes nothing points at, between the pages and the footer.
    const footerLength = new DataView(plain.buffer, plain.byteOffset + plain.length - 8, 4).getUint32(0, true);
    const footerStart = plain.length - 8 - footerLength;
    const padded = new Uint8Array(plain.length + 3);
    padded.set(plain.subarray(0, footerStart));
    padded.set(plain.subarray(footerStart), footerStart + 3);
    expect(await compressPages(padded, 'zstd', compress)).toEqual({ fallback: expect.stringMatching(/unnamed bytes/) });
    // Not Parquet; a file already compressed; a compressor that fails.
    expect(await compressPages(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'zstd', compress)).toEqual({ fallback: expect.any(String) });
    const zstdFile = (await writeParquetFile(schema, [{ field: schema.fields[0], values: [1n] }], { parquet: DEFAULT_PARQUET_OPTIONS })).bytes;
    expect(await compressPages(zstdFile, 'zstd', compress)).toEqual({ fallback: expect.any(String) });
    const failing = async (): Promise<Uint8Array> => {
      throw new Error('out of memory');
    };
    expect(await compressPages(plain, 'zstd', failing)).toEqual({ fallback: expect.stringMatching(/compressor failed: out of memory/) });
    // writeParquetFile falls back in the same way: a level on a codec without one changes nothing.
    const snappy = await writeParquetFile(schema, [{ field: schema.fields[0], values: [1n] }], { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'snappy', level: 5 } });
    expect(chunksOf(footerOf(snappy.bytes)).map((c) => c.struct(3)!.number(4))).toEqual([1]);
  });

  it('writeParquetFile writes a table level this way', async () => {
    const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'note', required: false, type: 'string' }] };
    const columns = [{ field: schema.fields[0], values: Array.from({ length: 5000 }, (_, i) => `note ${i % 300}`) }];
    const plain = (await writeParquetFile(schema, columns, { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'uncompressed' } })).bytes;
    const written = (await writeParquetFile(schema, columns, { parquet: { ...DEFAULT_PARQUET_OPTIONS, codec: 'gzip', level: 9 } })).bytes;
    const gzip9 = await pageCompressor('gzip', 9);
    const pages = pagesOf(written);
    expect(pages.map((p) => p.body)).toEqual(await Promise.all(pagesOf(plain).map((p) => gzip9(p.body))));
  });
});
