import { readFile } from 'node:fs/promises';
import { duckdb } from './iceberg';

/** One column chunk's pages, as its page headers say. */
export interface ChunkPages {
  readonly rowGroup: number;
  readonly column: string;
  readonly rows: number;
  /** Uncompressed size of each data page (v1 or v2), in file order; dictionary pages left out. */
  readonly dataPages: readonly number[];
}

/**
 * The pages of every column chunk of a Parquet file: DuckDB's parquet_metadata gives where each
 * chunk starts and its size, and the page headers (Thrift compact protocol, parquet.thrift
 * PageHeader) are walked from there by the decoder below — neither DuckDB nor any library we
 * write with counts pages, and page size is the setting to check.
 */
export async function chunkPages(path: string): Promise<ChunkPages[]> {
  const bytes = await readFile(path);
  const chunks = await duckdb<{ row_group_id: number; path_in_schema: string; start: number; size: number; rows: number }>(
    `SELECT row_group_id::int AS row_group_id, path_in_schema, coalesce(least(dictionary_page_offset, data_page_offset), data_page_offset)::int8::float8 AS start,
            total_compressed_size::int8::float8 AS size, row_group_num_rows::int8::float8 AS rows
       FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`,
  );
  return chunks.map((chunk) => {
    const dataPages: number[] = [];
    let at = chunk.start;
    while (at < chunk.start + chunk.size) {
      const reader = new CompactReader(bytes, at);
      const header = reader.struct();
      // 1: type (0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2), 2: uncompressed size, 3: compressed size.
      if (header.get(1) === 0 || header.get(1) === 3) dataPages.push(header.get(2) as number);
      at = reader.at + (header.get(3) as number);
    }
    return { rowGroup: chunk.row_group_id, column: chunk.path_in_schema, rows: chunk.rows, dataPages };
  });
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
