import { decodeStruct, encodeStruct, ThriftDecodeError, ThriftList, ThriftStruct, TTYPE } from './thrift-compact';

/**
 * Compresses the pages of an uncompressed Parquet file with a codec at a level of our choosing.
 * parquet-wasm 0.8 takes a codec but no level (the Rust crate's default level: zstd 1, gzip 6,
 * brotli 1), so a table whose write.parquet.compression-level asks for another is written
 * uncompressed and compressed here, once: every page body (the values of a v2 data page) is
 * compressed, its header gets the new size, and the footer and offset indexes the new offsets and
 * sizes; statistics, encodings, column indexes and everything else keep their bytes. The result is
 * walked again before it is used (every page header where the footer says, every offset-index
 * location on a page). A file laid out in a way this does not know (an index page, an encrypted
 * footer, bytes between the parts that nothing points at), a page too large for the compressor,
 * or a compressor that fails gives a `fallback` reason instead, and the caller writes the file with
 * the codec's default level.
 */
export async function compressPages(file: Uint8Array, codec: LeveledCodec, compress: PageCompressor): Promise<{ bytes: Uint8Array } | { fallback: string }> {
  try {
    const bytes = await rewrite(file, codec, compress);
    verify(bytes);
    return { bytes };
  } catch (error) {
    if (error instanceof LayoutError || error instanceof ThriftDecodeError) return { fallback: error.message };
    throw error;
  }
}

/** Compresses one page body. */
export type PageCompressor = (page: Uint8Array) => Promise<Uint8Array>;

export type LeveledCodec = 'zstd' | 'gzip' | 'brotli';

/** parquet.thrift CompressionCodec. */
const CODEC_ID: Readonly<Record<LeveledCodec, number>> = { gzip: 2, brotli: 4, zstd: 6 };
const UNCOMPRESSED = 0;
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1

// parquet.thrift field ids, named where they are used.
const FILE = { rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, totalByteSize: 2, fileOffset: 5, totalCompressedSize: 6 } as const;
const CHUNK = { filePath: 1, fileOffset: 2, metaData: 3, offsetIndexOffset: 4, offsetIndexLength: 5, columnIndexOffset: 6, columnIndexLength: 7, encrypted: 9 } as const;
const META = { codec: 4, totalUncompressedSize: 6, totalCompressedSize: 7, dataPageOffset: 9, indexPageOffset: 10, dictionaryPageOffset: 11, bloomFilterOffset: 14, bloomFilterLength: 15 } as const;
const PAGE = { type: 1, uncompressedSize: 2, compressedSize: 3, crc: 4, dataPageV2: 8 } as const;
const PAGE_TYPE = { data: 0, index: 1, dictionary: 2, dataV2: 3 } as const;
const V2 = { definitionLevelsLength: 5, repetitionLevelsLength: 6, isCompressed: 7 } as const;
const OFFSET_INDEX = { pageLocations: 1 } as const;
const LOCATION = { offset: 1, compressedSize: 2 } as const;

class LayoutError extends Error {}

/** Larger pages are left to parquet-wasm: the zstd module's heap is 2 GB, and a failed allocation there kills it. */
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
/** How long the rewrite runs before it lets the event loop turn (health checks, heartbeats). */
const SLICE_MS = 50;

/** A part of the file after the column chunks that the footer points at. */
interface Trailer {
  readonly offset: number;
  readonly length: number;
  readonly place: (offset: number, length: number) => void;
  readonly bytes: (relocate: (old: number) => number) => Uint8Array;
}

async function rewrite(file: Uint8Array, codec: LeveledCodec, compress: PageCompressor): Promise<Uint8Array> {
  if (!MAGIC.every((b, i) => file[i] === b && file[file.length - 4 + i] === b)) throw new LayoutError('not a plain Parquet file');
  const { footer, footerStart } = footerOf(file);

  const out = new Output();
  out.push(Uint8Array.from(MAGIC));
  /** Old page (and chunk end) offsets to new ones: what the footer's and indexes' offsets may name. */
  const moved = new Map<number, number>([[0, 0]]);
  const relocate = (old: number) => {
    const now = moved.get(old);
    if (now === undefined) throw new LayoutError(`offset ${old} names no page`);
    return now;
  };
  const trailers: Trailer[] = [];
  let expected = MAGIC.length;
  const placements: Array<() => void> = [];
  let sliceStart = performance.now();

  for (const group of listOf(footer, FILE.rowGroups)) {
    let groupCompressed = 0;
    let groupUncompressed = 0;
    let groupStart: number | undefined;
    for (const chunk of listOf(group, ROW_GROUP.columns)) {
      if (chunk.get(CHUNK.filePath) !== undefined || chunk.get(CHUNK.encrypted) !== undefined) throw new LayoutError('external or encrypted column chunk');
      const meta = chunk.struct(CHUNK.metaData);
      if (!meta || meta.number(META.codec) !== UNCOMPRESSED || meta.get(META.indexPageOffset) !== undefined) throw new LayoutError('chunk not uncompressed');
      const { dataOffset, dictionaryOffset, start, end } = chunkSpan(meta);
      if (start !== expected) throw new LayoutError(`chunk at ${start}, expected ${expected}`);
      const newStart = out.length;
      let uncompressed = 0;
      for (let at = start; at < end; ) {
        const { struct: header, end: bodyStart } = decodeStruct(file, at);
        const bodyEnd = bodyStart + need(header.number(PAGE.compressedSize));
        if (bodyEnd > end) throw new LayoutError('page runs past its chunk');
        if (bodyEnd - bodyStart > MAX_PAGE_BYTES) throw new LayoutError(`a page of ${bodyEnd - bodyStart} bytes`);
        moved.set(at, out.length);
        const [newHeader, body] = await page(header, file.subarray(bodyStart, bodyEnd), compress);
        out.push(newHeader, body);
        uncompressed += newHeader.length + need(header.number(PAGE.uncompressedSize));
        at = bodyEnd;
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
      moved.set(end, out.length);
      expected = end;
      const compressed = out.length - newStart;
      groupCompressed += compressed;
      groupUncompressed += uncompressed;
      groupStart ??= newStart;
      meta.set(META.codec, TTYPE.I32, CODEC_ID[codec]);
      meta.set(META.totalCompressedSize, TTYPE.I64, compressed);
      // Headers are part of both sizes, and theirs changed length.
      meta.set(META.totalUncompressedSize, TTYPE.I64, uncompressed);
      meta.set(META.dataPageOffset, TTYPE.I64, relocate(dataOffset));
      if (dictionaryOffset !== undefined) meta.set(META.dictionaryPageOffset, TTYPE.I64, relocate(dictionaryOffset));
      // Deprecated; writers set it to the chunk's first page or to where the chunk ends.
      const fileOffset = chunk.number(CHUNK.fileOffset);
      if (fileOffset !== undefined) placements.push(() => chunk.set(CHUNK.fileOffset, TTYPE.I64, relocate(fileOffset)));
      trailers.push(...chunkTrailers(file, chunk, meta));
    }
    if (group.get(ROW_GROUP.totalCompressedSize) !== undefined) group.set(ROW_GROUP.totalCompressedSize, TTYPE.I64, groupCompressed);
    if (group.get(ROW_GROUP.totalByteSize) !== undefined) group.set(ROW_GROUP.totalByteSize, TTYPE.I64, groupUncompressed);
    const groupOffset = group.number(ROW_GROUP.fileOffset);
    if (groupOffset !== undefined) placements.push(() => group.set(ROW_GROUP.fileOffset, TTYPE.I64, groupStart === undefined ? groupOffset : relocate(groupOffset)));
  }
  placements.forEach((place) => place());

  // What follows the chunks (column and offset indexes, bloom filters) must be exactly the parts
  // the footer points at: a byte nothing names would be lost or misplaced.
  for (const trailer of trailers.sort((a, b) => a.offset - b.offset)) {
    if (trailer.offset !== expected) throw new LayoutError(`unnamed bytes at ${expected}`);
    const bytes = trailer.bytes(relocate);
    trailer.place(out.length, bytes.length);
    out.push(bytes);
    expected = trailer.offset + trailer.length;
  }
  if (expected !== footerStart) throw new LayoutError(`unnamed bytes at ${expected}`);

  const newFooter = encodeStruct(footer);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, newFooter.length, true);
  out.push(newFooter, length, Uint8Array.from(MAGIC));
  return out.bytes();
}

/** A page compressed: its new header and body. */
async function page(header: ThriftStruct, body: Uint8Array, compress: PageCompressor): Promise<[Uint8Array, Uint8Array]> {
  const type = header.number(PAGE.type);
  let compressed: Uint8Array;
  if (type === PAGE_TYPE.data || type === PAGE_TYPE.dictionary) compressed = await compressBody(compress, body);
  else if (type === PAGE_TYPE.dataV2) {
    // A v2 page keeps its levels uncompressed, ahead of the values.
    const v2 = need(header.struct(PAGE.dataPageV2));
    const levels = need(v2.number(V2.definitionLevelsLength)) + need(v2.number(V2.repetitionLevelsLength));
    const values = await compressBody(compress, body.subarray(levels));
    compressed = new Uint8Array(levels + values.length);
    compressed.set(body.subarray(0, levels));
    compressed.set(values, levels);
    v2.set(V2.isCompressed, TTYPE.TRUE, true);
  } else throw new LayoutError(`page type ${type}`);
  header.set(PAGE.compressedSize, TTYPE.I32, compressed.length);
  header.delete(PAGE.crc); // optional; it was the checksum of the uncompressed bytes
  return [encodeStruct(header), compressed];
}

/** A compressor's failure (the wasm module's, say) is a reason to fall back, not to fail the file. */
async function compressBody(compress: PageCompressor, body: Uint8Array): Promise<Uint8Array> {
  try {
    return await compress(body);
  } catch (error) {
    throw new LayoutError(`the compressor failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Walks a rewritten file as a reader would: every chunk's pages from the offset the footer gives
 * to exactly where the chunk ends, and every offset-index location onto a page start with that
 * page's size. A mistake in the rewrite shows here rather than in somebody's query.
 */
function verify(file: Uint8Array): void {
  for (const group of listOf(footerOf(file).footer, FILE.rowGroups)) {
    for (const chunk of listOf(group, ROW_GROUP.columns)) {
      const { dataOffset, dictionaryOffset, start, end } = chunkSpan(need(chunk.struct(CHUNK.metaData)));
      const sizes = new Map<number, number>();
      for (let at = start; at < end; ) {
        const { struct: header, end: bodyStart } = decodeStruct(file, at);
        const next = bodyStart + need(header.number(PAGE.compressedSize));
        sizes.set(at, next - at);
        at = next;
        if (at > end) throw new LayoutError('verify: a page runs past its chunk');
      }
      if (!sizes.has(dataOffset) || (dictionaryOffset !== undefined && !sizes.has(dictionaryOffset))) throw new LayoutError('verify: a page offset names no page');
      const indexOffset = chunk.number(CHUNK.offsetIndexOffset);
      if (indexOffset === undefined) continue;
      for (const location of listOf(decodeStruct(file, indexOffset).struct, OFFSET_INDEX.pageLocations)) {
        if (sizes.get(need(location.number(LOCATION.offset))) !== location.number(LOCATION.compressedSize)) throw new LayoutError('verify: an offset-index location names no page');
      }
    }
  }
}

/** The parts after the chunks that one chunk's metadata points at, each able to move. */
function chunkTrailers(file: Uint8Array, chunk: ThriftStruct, meta: ThriftStruct): Trailer[] {
  const trailers: Trailer[] = [];
  const add = (holder: ThriftStruct, offsetId: number, lengthId: number, bytes: (relocate: (old: number) => number) => Uint8Array) => {
    const offset = holder.number(offsetId);
    if (offset === undefined) return;
    const length = holder.number(lengthId);
    if (length === undefined) throw new LayoutError('index without a length');
    trailers.push({
      offset,
      length,
      bytes,
      place: (at, size) => {
        holder.set(offsetId, TTYPE.I64, at);
        holder.set(lengthId, TTYPE.I32, size);
      },
    });
  };
  const copy = (holder: ThriftStruct, offsetId: number, lengthId: number) => () => {
    const offset = need(holder.number(offsetId));
    return file.slice(offset, offset + need(holder.number(lengthId)));
  };
  add(chunk, CHUNK.columnIndexOffset, CHUNK.columnIndexLength, copy(chunk, CHUNK.columnIndexOffset, CHUNK.columnIndexLength));
  add(meta, META.bloomFilterOffset, META.bloomFilterLength, copy(meta, META.bloomFilterOffset, META.bloomFilterLength));
  add(chunk, CHUNK.offsetIndexOffset, CHUNK.offsetIndexLength, (relocate) => {
    // Page locations hold each page's offset and its size with its header: both moved.
    const offset = need(chunk.number(CHUNK.offsetIndexOffset));
    const { struct: index, end } = decodeStruct(file, offset);
    if (end !== offset + need(chunk.number(CHUNK.offsetIndexLength))) throw new LayoutError('offset index length');
    const locations = listOf(index, OFFSET_INDEX.pageLocations);
    for (const location of locations) {
      const old = need(location.number(LOCATION.offset));
      const next = relocate(old + need(location.number(LOCATION.compressedSize)));
      location.set(LOCATION.offset, TTYPE.I64, relocate(old));
      location.set(LOCATION.compressedSize, TTYPE.I32, next - relocate(old));
    }
    return encodeStruct(index);
  });
  return trailers;
}

/** The footer (FileMetaData) and where it starts: it ends 8 bytes before the file, its length then the magic. */
function footerOf(file: Uint8Array): { footer: ThriftStruct; footerStart: number } {
  const footerStart = file.length - 8 - new DataView(file.buffer, file.byteOffset + file.length - 8, 4).getUint32(0, true);
  return { footer: decodeStruct(file, footerStart).struct, footerStart };
}

/** Where a column chunk's pages lie: from its dictionary page (when it has one) for its compressed size. */
function chunkSpan(meta: ThriftStruct): { dataOffset: number; dictionaryOffset: number | undefined; start: number; end: number } {
  const dataOffset = need(meta.number(META.dataPageOffset));
  const dictionaryOffset = meta.number(META.dictionaryPageOffset);
  const start = dictionaryOffset !== undefined ? Math.min(dictionaryOffset, dataOffset) : dataOffset;
  return { dataOffset, dictionaryOffset, start, end: start + need(meta.number(META.totalCompressedSize)) };
}

function listOf(struct: ThriftStruct, id: number): ThriftStruct[] {
  const list: ThriftList | undefined = struct.list(id);
  if (!list) return [];
  return list.items.map((item) => {
    if (!(item instanceof ThriftStruct)) throw new LayoutError(`field ${id} is not a list of structs`);
    return item;
  });
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new LayoutError('a required field is missing');
  return value;
}

class Output {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  push(...parts: Uint8Array[]): void {
    for (const part of parts) {
      this.parts.push(part);
      this.length += part.length;
    }
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
