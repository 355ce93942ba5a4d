import { crc32 } from 'node:zlib';
import { RoaringBitmap32, roaringLibraryInitialize } from 'roaring-wasm';

/**
 * A deletion-vector-v1 blob read as the Puffin spec lays it out — big-endian length, magic, the
 * portable 64-bit Roaring bitmap, big-endian CRC-32 — each 32-bit bitmap decoded by CRoaring
 * (roaring-wasm), not by Philotes' codec. Throws on a bad length, magic or checksum.
 */
export async function deletedPositions(blob: Uint8Array): Promise<number[]> {
  await roaringLibraryInitialize();
  const bytes = Buffer.from(blob);
  const length = bytes.readUInt32BE(0);
  if (length + 8 !== bytes.length) throw new Error(`deletion vector: length ${length} in a blob of ${bytes.length} bytes`);
  if (!bytes.subarray(4, 8).equals(Buffer.from([0xd1, 0xd3, 0x39, 0x64]))) throw new Error('deletion vector: bad magic');
  if (bytes.readUInt32BE(4 + length) !== crc32(bytes.subarray(4, 4 + length)) >>> 0) throw new Error('deletion vector: bad CRC-32');
  const vector = bytes.subarray(8, 4 + length);
  const count = Number(vector.readBigUInt64LE(0));
  const positions: number[] = [];
  let at = 8;
  for (let k = 0; k < count; k++) {
    const key = vector.readUInt32LE(at);
    at += 4;
    const bitmap = RoaringBitmap32.deserialize(vector.subarray(at), 'portable');
    try {
      for (const low of bitmap.toArray()) positions.push(key * 2 ** 32 + low);
      at += bitmap.getSerializationSizeInBytes('portable');
    } finally {
      bitmap.dispose();
    }
  }
  if (at !== vector.length) throw new Error('deletion vector: bytes after the last bitmap');
  return positions;
}
