import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import * as zstd from '@bokuweb/zstd-wasm';
import { LeveledCodec, PageCompressor } from './page-compression';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * Each leveled codec's compressor at a level, the level clamped into what the codec takes (a
 * level another engine recorded may be outside it). Parquet's GZIP is the gzip format (RFC 1952),
 * BROTLI raw brotli, ZSTD zstd frames. Node 20's zlib has no zstd (it arrives in Node 22.15), so
 * zstd runs as WebAssembly (@bokuweb/zstd-wasm, libzstd compiled with Emscripten). gzip and
 * brotli run on libuv's thread pool, off the event loop; zstd runs on it, a page at a time (the
 * rewrite lets the loop turn between pages: a 1 MB page at zstd 19 takes about 1.4 s).
 */
export async function pageCompressor(codec: LeveledCodec, level: number): Promise<PageCompressor> {
  switch (codec) {
    case 'gzip': {
      const options = { level: clamp(level, 0, 9) };
      return (page) => gzipAsync(page, options);
    }
    case 'brotli': {
      const quality = clamp(level, 0, 11);
      return (page) => brotliAsync(page, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: page.length } });
    }
    case 'zstd': {
      await zstdReady();
      // libzstd reads 0 as its default level (3).
      const zstdLevel = clamp(level, 0, 22);
      return async (page) => zstd.compress(page, zstdLevel);
    }
  }
}

let ready: Promise<void> | undefined;

/**
 * The wasm module loads once per process, here only: init() instantiates it again each time it
 * is called, and calls in flight would find their heap replaced.
 */
function zstdReady(): Promise<void> {
  // A failed load is tried again by the next file, not remembered.
  ready ??= zstd.init().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
