import { crc32 } from 'node:zlib';
import { deserializeRoaring64, serializeRoaring64 } from './roaring64';
import { PuffinBlob, PuffinBlobMetadata } from './puffin';

/**
 * The `deletion-vector-v1` blob (Iceberg puffin-spec.md): the combined length of magic and vector
 * (4 bytes, big-endian), the magic `D1 D3 39 64`, the positions as a portable 64-bit Roaring
 * bitmap, and a CRC-32 of magic and vector (4 bytes, big-endian). Never compressed.
 */
export const DELETION_VECTOR_V1 = 'deletion-vector-v1';
const MAGIC = Uint8Array.of(0xd1, 0xd3, 0x39, 0x64);

export function encodeDeletionVector(positions: Iterable<number>): Uint8Array {
  const vector = serializeRoaring64(positions);
  const out = new Uint8Array(4 + MAGIC.length + vector.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC.length + vector.length, false);
  out.set(MAGIC, 4);
  out.set(vector, 8);
  view.setUint32(8 + vector.length, crc32(out.subarray(4, 8 + vector.length)) >>> 0, false);
  return out;
}

/** The deleted positions, ascending. Throws on a bad length, magic or checksum. */
export function decodeDeletionVector(blob: Uint8Array): number[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const length = view.getUint32(0, false);
  if (length + 8 !== blob.length) throw new Error(`deletion vector: length ${length} does not fit a blob of ${blob.length} bytes`);
  if (!MAGIC.every((b, i) => blob[4 + i] === b)) throw new Error('deletion vector: bad magic');
  const body = blob.subarray(4, 4 + length);
  if ((crc32(body) >>> 0) !== view.getUint32(4 + length, false)) throw new Error('deletion vector: CRC-32 mismatch');
  return deserializeRoaring64(body.subarray(MAGIC.length));
}

/** The Puffin blob of one data file's deleted positions; snapshot id and sequence number are -1 (puffin-spec: unknown when written). */
export function deletionVectorBlob(referencedDataFile: string, positions: readonly number[]): PuffinBlob {
  const cardinality = new Set(positions).size;
  return { type: DELETION_VECTOR_V1, fields: [], snapshotId: -1, sequenceNumber: -1, bytes: encodeDeletionVector(positions), properties: { 'referenced-data-file': referencedDataFile, cardinality: String(cardinality) } };
}

/** Whether a footer blob is a deletion vector for `dataFile`. */
export function isDeletionVectorOf(blob: PuffinBlobMetadata, dataFile: string): boolean {
  return blob.type === DELETION_VECTOR_V1 && blob.properties?.['referenced-data-file'] === dataFile;
}
