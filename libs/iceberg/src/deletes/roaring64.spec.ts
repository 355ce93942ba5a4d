import { RoaringBitmap32, roaringLibraryInitialize } from 'roaring-wasm';
import { seededRandom } from '@philotes/faults';
import { decodeDeletionVector, deletionVectorBlob, encodeDeletionVector } from './deletion-vector';
import { puffinBlobBytes, readPuffinFooter, writePuffin } from './puffin';
import { deserializeRoaring32, deserializeRoaring64, serializeRoaring32, serializeRoaring64 } from './roaring64';

/** Bytes from the RoaringFormatSpec's layout, built here by hand, and generated sets round-tripped. */

const le16 = (v: number) => [v & 0xff, v >>> 8];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

describe('Roaring bitmaps (portable format)', () => {
  it("reads and writes the spec's run-container example: 1,10 20,0 31,2 is 1..11, 20, 31..33", () => {
    // SERIAL_COOKIE with one container, its run bit, key 0 with cardinality-1 14, no offsets (under 4 containers), 3 runs.
    const bytes = Uint8Array.from([...le32(12347), 0x01, ...le16(0), ...le16(14), ...le16(3), ...le16(1), ...le16(10), ...le16(20), ...le16(0), ...le16(31), ...le16(2)]);
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 31, 32, 33];
    expect(deserializeRoaring32(bytes)).toEqual({ values, length: bytes.length });
    expect([...serializeRoaring32(values)]).toEqual([...bytes]);
  });

  it('writes array containers under the no-run cookie with the offset header', () => {
    // Keys 0 and 1; header 8 + 2 descriptions + 2 offsets = 24 bytes, then [0, 5] and [4464].
    const bytes = Uint8Array.from([...le32(12346), ...le32(2), ...le16(0), ...le16(1), ...le16(1), ...le16(0), ...le32(24), ...le32(28), ...le16(0), ...le16(5), ...le16(4464)]);
    expect([...serializeRoaring32([70000, 5, 0, 5])]).toEqual([...bytes]);
    expect(deserializeRoaring32(bytes).values).toEqual([0, 5, 70000]);
  });

  it('writes a dense container as an 8 KB bitset, and the 64-bit layout as count, then key and bitmap per high word', () => {
    const dense = Array.from({ length: 5000 }, (_, i) => i * 3); // 5000 values, no runs: a bitset
    const bytes = serializeRoaring32(dense);
    expect(bytes.length).toBe(8 + 4 + 4 + 8192);
    expect(bytes[16]).toBe(0b01001001); // 0, 3, 6 set in the first byte
    expect(deserializeRoaring32(bytes).values).toEqual(dense);

    const positions = [7, 2 ** 32 + 1];
    const wide = serializeRoaring64(positions);
    const view = new DataView(wide.buffer);
    expect(view.getBigUint64(0, true)).toBe(2n);
    expect(view.getUint32(8, true)).toBe(0);
    expect(deserializeRoaring64(wide)).toEqual(positions);
    expect([...serializeRoaring64([])]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('round-trips generated sets: sparse, dense, runs, several containers and high words (seeded)', () => {
    const first = Number(process.env.PHILOTES_ROARING_SEED ?? 4100);
    for (let seed = first; seed < first + (process.env.PHILOTES_ROARING_SEED ? 1 : 60); seed++) {
      const random = seededRandom(seed);
      const set = new Set<number>();
      const shapes = 1 + Math.floor(random() * 4);
      for (let s = 0; s < shapes; s++) {
        const base = Math.floor(random() * 4) * 2 ** 32 + Math.floor(random() * 300_000);
        const kind = Math.floor(random() * 3);
        const count = Math.floor(random() ** 2 * 9000);
        for (let i = 0; i < count; i++) set.add(kind === 0 ? base + i : kind === 1 ? base + Math.floor(random() * 200_000) : base + i * 2);
      }
      const expected = [...set].sort((a, b) => a - b);
      expect([seed, deserializeRoaring64(serializeRoaring64(set))]).toEqual([seed, expected]);
    }
  });

  it('agrees with CRoaring (roaring-wasm) byte for byte, each reading what the other wrote (seeded)', async () => {
    await roaringLibraryInitialize();
    for (let seed = 5100; seed < 5140; seed++) {
      const random = seededRandom(seed);
      const values = new Set<number>();
      for (let s = 0, shapes = 1 + Math.floor(random() * 5); s < shapes; s++) {
        const base = Math.floor(random() * 2 ** 31);
        const kind = Math.floor(random() * 3);
        for (let i = 0, count = Math.floor(random() ** 2 * 12_000); i < count; i++) values.add((kind === 0 ? base + i : kind === 1 ? base + Math.floor(random() * 300_000) : base + 2 * i) % 2 ** 32);
      }
      const expected = [...values].sort((a, b) => a - b);
      const theirs = new RoaringBitmap32(expected);
      theirs.runOptimize();
      const theirBytes = theirs.serialize('portable');
      const ours = serializeRoaring32(expected);
      expect([seed, deserializeRoaring32(theirBytes).values]).toEqual([seed, expected]);
      const read = RoaringBitmap32.deserialize(ours, 'portable');
      expect([seed, Array.from(read.toArray())]).toEqual([seed, expected]);
      expect([seed, Buffer.from(ours).equals(Buffer.from(theirBytes))]).toEqual([seed, true]);
      theirs.dispose();
      read.dispose();
    }
  });

  it('refuses what is not a bitmap: an unknown cookie, keys out of order, trailing bytes', () => {
    expect(() => deserializeRoaring32(Uint8Array.from(le32(999)))).toThrow(/unknown cookie/);
    const twoKeys = serializeRoaring64([1, 2 ** 32]);
    const swapped = Uint8Array.from(twoKeys);
    new DataView(swapped.buffer).setUint32(8, 5, true);
    expect(() => deserializeRoaring64(swapped)).toThrow(/ascend/);
    expect(() => deserializeRoaring64(Uint8Array.from([...twoKeys, 0]))).toThrow(/after the last bitmap/);
    expect(() => serializeRoaring64([-1])).toThrow(RangeError);
  });
});

describe('deletion-vector-v1 blobs in Puffin files', () => {
  it('lays out length, magic, vector and CRC-32 as the Puffin spec says, and checks each on read', () => {
    const blob = encodeDeletionVector([3, 1, 2 ** 33]);
    const view = new DataView(blob.buffer);
    expect(view.getUint32(0, false)).toBe(blob.length - 8);
    expect([...blob.subarray(4, 8)]).toEqual([0xd1, 0xd3, 0x39, 0x64]);
    expect([...blob.subarray(8, blob.length - 4)]).toEqual([...serializeRoaring64([1, 3, 2 ** 33])]);
    expect(decodeDeletionVector(blob)).toEqual([1, 3, 2 ** 33]);
    const flipped = Uint8Array.from(blob);
    flipped[12] ^= 1;
    expect(() => decodeDeletionVector(flipped)).toThrow(/CRC-32/);
    const badMagic = Uint8Array.from(blob);
    badMagic[4] = 0;
    expect(() => decodeDeletionVector(badMagic)).toThrow(/magic/);
    expect(() => decodeDeletionVector(blob.subarray(0, blob.length - 1))).toThrow(/length/);
  });

  it('writes a Puffin file whose footer places each blob, with the properties a deletion vector must have', () => {
    const blobs = [deletionVectorBlob('s3://b/t/data/a.parquet', [0, 1, 1, 9]), deletionVectorBlob('s3://b/t/data/b.parquet', [])];
    const { bytes, footer } = writePuffin(blobs);
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x46, 0x41, 0x31]);
    expect(readPuffinFooter(bytes)).toEqual(footer);
    expect(footer.blobs.map((b) => [b.type, b['snapshot-id'], b['sequence-number'], b.properties])).toEqual([
      ['deletion-vector-v1', -1, -1, { 'referenced-data-file': 's3://b/t/data/a.parquet', cardinality: '3' }],
      ['deletion-vector-v1', -1, -1, { 'referenced-data-file': 's3://b/t/data/b.parquet', cardinality: '0' }],
    ]);
    expect(footer.blobs[0].offset).toBe(4);
    expect(footer.blobs[1].offset).toBe(4 + blobs[0].bytes.length);
    expect(decodeDeletionVector(puffinBlobBytes(bytes, footer.blobs[0]))).toEqual([0, 1, 9]);
    expect(decodeDeletionVector(puffinBlobBytes(bytes, footer.blobs[1]))).toEqual([]);
    // A compressed footer is refused by name, not misread.
    const compressed = Uint8Array.from(bytes);
    compressed[compressed.length - 8] = 1;
    expect(() => readPuffinFooter(compressed)).toThrow(/compressed/);
    expect(() => readPuffinFooter(bytes.subarray(1))).toThrow(/magic/);
  });
});
