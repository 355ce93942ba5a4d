/**
 * Puffin files (Iceberg puffin-spec.md): `Magic Blob₁ … Blobₙ Footer`, the footer being
 * `Magic FooterPayload FooterPayloadSize Flags Magic` with a UTF-8 JSON payload. Philotes writes
 * the payload uncompressed; it reads uncompressed payloads and blobs only (a compressed one is
 * refused by name, never misread).
 */

const MAGIC = Uint8Array.of(0x50, 0x46, 0x41, 0x31);
const FOOTER_COMPRESSED = 1;

export interface PuffinBlob {
  readonly type: string;
  readonly fields: readonly number[];
  readonly snapshotId: number;
  readonly sequenceNumber: number;
  readonly bytes: Uint8Array;
  readonly properties?: Readonly<Record<string, string>>;
}

/** A blob as the footer describes it: where it lies in the file. */
export interface PuffinBlobMetadata {
  readonly type: string;
  readonly fields: readonly number[];
  readonly 'snapshot-id': number;
  readonly 'sequence-number': number;
  readonly offset: number;
  readonly length: number;
  readonly 'compression-codec'?: string;
  readonly properties?: Readonly<Record<string, string>>;
}

export interface PuffinFooter {
  readonly blobs: readonly PuffinBlobMetadata[];
  readonly properties?: Readonly<Record<string, string>>;
}

/** The file holding `blobs` in order, and the footer's description of each. */
export function writePuffin(blobs: readonly PuffinBlob[], properties: Readonly<Record<string, string>> = { 'created-by': 'Philotes' }): { bytes: Uint8Array; footer: PuffinFooter } {
  let offset = MAGIC.length;
  const described: PuffinBlobMetadata[] = blobs.map((blob) => {
    const entry: PuffinBlobMetadata = {
      type: blob.type,
      fields: [...blob.fields],
      'snapshot-id': blob.snapshotId,
      'sequence-number': blob.sequenceNumber,
      offset,
      length: blob.bytes.length,
      ...(blob.properties ? { properties: { ...blob.properties } } : {}),
    };
    offset += blob.bytes.length;
    return entry;
  });
  const footer: PuffinFooter = { blobs: described, properties: { ...properties } };
  const payload = Buffer.from(JSON.stringify(footer), 'utf8');
  const tail = new Uint8Array(8);
  const view = new DataView(tail.buffer);
  view.setInt32(0, payload.length, true);
  view.setInt32(4, 0, true); // flags: payload not compressed
  return { bytes: Buffer.concat([MAGIC, ...blobs.map((b) => b.bytes), MAGIC, payload, tail, MAGIC]), footer };
}

/** The footer of a Puffin file. Throws when the bytes are not one, or the payload is compressed. */
export function readPuffinFooter(bytes: Uint8Array): PuffinFooter {
  const n = bytes.length;
  if (n < 4 + 4 + 12 || !sameBytes(bytes.subarray(0, 4), MAGIC) || !sameBytes(bytes.subarray(n - 4), MAGIC)) throw new Error('puffin: not a Puffin file (magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getInt32(n - 12, true);
  const flags = view.getUint8(n - 8);
  if (flags & FOOTER_COMPRESSED) throw new Error('puffin: the footer payload is compressed (LZ4), which Philotes does not read');
  const start = n - 12 - size;
  if (size < 0 || start < 8 || !sameBytes(bytes.subarray(start - 4, start), MAGIC)) throw new Error('puffin: footer payload size out of range');
  return JSON.parse(Buffer.from(bytes.subarray(start, start + size)).toString('utf8')) as PuffinFooter;
}

/** A blob's bytes as the footer places them. */
export function puffinBlobBytes(bytes: Uint8Array, blob: Pick<PuffinBlobMetadata, 'offset' | 'length' | 'compression-codec'>): Uint8Array {
  if (blob['compression-codec']) throw new Error(`puffin: blob compressed with ${blob['compression-codec']}, which Philotes does not read`);
  if (blob.offset < 4 || blob.offset + blob.length > bytes.length) throw new Error('puffin: blob out of the file');
  return bytes.subarray(blob.offset, blob.offset + blob.length);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
