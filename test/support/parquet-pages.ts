import { readFile } from 'node:fs/promises';
import * as zstd from '@bokuweb/zstd-wasm';
import { pageCompressor } from '@philotes/iceberg';
import { duckdb } from './iceberg';

/** One column chunk's pages, as its page headers say. */
export interface ChunkPages {
  readonly rowGroup: number;
  readonly column: string;
  readonly rows: number;
  /** Uncompressed size of each data page (v1 or v2), in file order; dictionary pages left out. */
  readonly dataPages: readonly number[];
  /** Every page (dictionary pages too): its type and where its (compressed) body lies in the file. */
  readonly pages: readonly PageBody[];
  /** The chunk's codec as parquet_metadata names it (ZSTD, GZIP, ...). */
  readonly codec: string;
}

export interface PageBody {
  /** 0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2. */
  readonly type: number;
  readonly start: number;
  readonly length: number;
  readonly uncompressed: number;
}

/**
 * The pages of every column chunk of a Parquet file: DuckDB's parquet_metadata gives where each
 * chunk starts and its size, and the page headers (Thrift compact protocol, parquet.thrift
 * PageHeader) are walked from there by the decoder below — neither DuckDB nor any library we
 * write with counts pages, and page size is the setting to check.
 */
export async function chunkPages(path: string): Promise<ChunkPages[]> {
  const bytes = await readFile(path);
  const chunks = await duckdb<{ row_group_id: number; path_in_schema: string; start: number; size: number; rows: number; compression: string }>(
    `SELECT row_group_id::int AS row_group_id, path_in_schema, compression, coalesce(least(dictionary_page_offset, data_page_offset), data_page_offset)::int8::float8 AS start,
            total_compressed_size::int8::float8 AS size, row_group_num_rows::int8::float8 AS rows
       FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`,
  );
  return chunks.map((chunk) => {
    const dataPages: number[] = [];
    const pages: PageBody[] = [];
    let at = chunk.start;
    while (at < chunk.start + chunk.size) {
      const reader = new CompactReader(bytes, at);
      const header = reader.struct();
      // 1: type (0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2), 2: uncompressed size, 3: compressed size.
      const type = header.get(1) as number;
      if (type === 0 || type === 3) dataPages.push(header.get(2) as number);
      pages.push({ type, start: reader.at, length: header.get(3) as number, uncompressed: header.get(2) as number });
      at = reader.at + (header.get(3) as number);
    }
    return { rowGroup: chunk.row_group_id, column: chunk.path_in_schema, rows: chunk.rows, dataPages, pages, codec: chunk.compression };
  });
}

/**
 * How many of a zstd file's pages are what zstd makes of their contents at `level`: each page body
 * decompressed and compressed again at that level is the same bytes (zstd is deterministic for a
 * level). The wasm module is loaded through the writer's loader, which loads it once per process.
 */
export async function zstdPagesAtLevel(path: string, level: number): Promise<{ pages: number; atLevel: number }> {
  await pageCompressor('zstd', level);
  const bytes = await readFile(path);
  let pages = 0;
  let atLevel = 0;
  for (const chunk of await chunkPages(path)) {
    if (chunk.codec !== 'ZSTD') throw new Error(`${path}: a ${chunk.codec} chunk`);
    for (const page of chunk.pages) {
      const body = bytes.subarray(page.start, page.start + page.length);
      pages++;
      if (Buffer.from(zstd.compress(zstd.decompress(body), level)).equals(body)) atLevel++;
    }
  }
  return { pages, atLevel };
}

/** Just enough of the Thrift compact protocol to read a struct's top-level integer fields and skip the rest. */
class CompactReader {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {}

  struct(): Map<number, unknown> {
    const fields = new Map<number, unknown>();
    let id = 0;
    for (;;) {
      const head = this.bytes[this.at++];
      if (head === 0) return fields; // STOP
      const type = head & 0x0f;
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      fields.set(id, this.value(type));
    }
  }

  private value(type: number): unknown {
    switch (type) {
      case 1: // true
        return true;
      case 2: // false
        return false;
      case 3: // byte
        return this.bytes[this.at++];
      case 4: // i16
      case 5: // i32
      case 6: // i64
        return this.zigzag();
      case 7: // double
        this.at += 8;
        return undefined;
      case 8: {
        // binary
        const length = this.varint();
        this.at += length;
        return undefined;
      }
      case 9: // list
      case 10: {
        // set
        const head = this.bytes[this.at++];
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        for (let i = 0; i < size; i++) this.value(head & 0x0f);
        return undefined;
      }
      case 11: {
        // map
        const size = this.varint();
        if (size === 0) return undefined;
        const kinds = this.bytes[this.at++];
        for (let i = 0; i < size; i++) {
          this.value(kinds >> 4);
          this.value(kinds & 0x0f);
        }
        return undefined;
      }
      case 12: // struct
        this.struct();
        return undefined;
      default:
        throw new Error(`thrift compact type ${type} at byte ${this.at}`);
    }
  }

  private varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.bytes[this.at++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }

  private zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
}
