import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Type } from 'avsc';
import { bigintLongType } from './long-type';

/**
 * Avro object container files (Avro 1.11 spec, "Object Container Files"), written here rather than
 * by avsc's encoder so the header carries our writer schema verbatim, field-id and logicalType
 * attributes included, as Java engines write and iceberg-rust reads them. Blocks are deflated,
 * like Java's manifests.
 */
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const RECORDS_PER_BLOCK = 4096;

export function avroType(schema: object): Type {
  return Type.forSchema(schema as never, { registry: { long: bigintLongType } });
}

export function writeAvroContainer(schema: object, records: readonly unknown[], meta: Readonly<Record<string, string>>): Buffer {
  const type = avroType(schema);
  const sync = randomBytes(16);
  const header = Buffer.concat([
    MAGIC,
    encodeMap({ 'avro.schema': JSON.stringify(schema), 'avro.codec': 'deflate', ...meta }),
    sync,
  ]);
  const parts: Buffer[] = [header];
  for (let i = 0; i < records.length; i += RECORDS_PER_BLOCK) {
    const block = records.slice(i, i + RECORDS_PER_BLOCK);
    const body = deflateRawSync(Buffer.concat(block.map((record) => type.toBuffer(record))));
    parts.push(zigzagLong(block.length), zigzagLong(body.length), body, sync);
  }
  return Buffer.concat(parts);
}

export interface AvroContents {
  readonly meta: Readonly<Record<string, string>>;
  readonly records: unknown[];
}

/** Reads a container file whose blocks are 'null' or 'deflate' coded (what Iceberg engines write). */
export function readAvroContainer(bytes: Uint8Array): AvroContents {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buffer.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro container file');
  let at = 4;
  const readLong = (): number => {
    let shift = 0;
    let result = 0n;
    for (;;) {
      const byte = buffer[at++];
      result |= BigInt(byte & 0x7f) << BigInt(shift);
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    return Number((result >> 1n) ^ -(result & 1n));
  };
  const meta: Record<string, string> = {};
  for (;;) {
    let count = readLong();
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      readLong();
    }
    for (let i = 0; i < count; i++) {
      const keyLength = readLong();
      const key = buffer.toString('utf8', at, at + keyLength);
      at += keyLength;
      const valueLength = readLong();
      meta[key] = buffer.toString('utf8', at, at + valueLength);
      at += valueLength;
    }
  }
  const sync = buffer.subarray(at, at + 16);
  at += 16;
  const type = avroType(JSON.parse(meta['avro.schema']) as object);
  const codec = meta['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`unsupported Avro codec ${codec}`);
  const records: unknown[] = [];
  while (at < buffer.length) {
    const count = readLong();
    const size = readLong();
    let block = buffer.subarray(at, at + size);
    at += size;
    if (!buffer.subarray(at, at + 16).equals(sync)) throw new Error('Avro block sync marker mismatch');
    at += 16;
    if (codec === 'deflate') block = inflateRawSync(block);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const decoded = type.decode(block, offset);
      if (decoded.offset < 0) throw new Error('truncated Avro record');
      records.push(decoded.value);
      offset = decoded.offset;
    }
  }
  return { meta, records };
}

function encodeMap(entries: Readonly<Record<string, string>>): Buffer {
  const keys = Object.keys(entries);
  const parts: Buffer[] = [zigzagLong(keys.length)];
  for (const key of keys) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(entries[key], 'utf8');
    parts.push(zigzagLong(k.length), k, zigzagLong(v.length), v);
  }
  parts.push(zigzagLong(0));
  return Buffer.concat(parts);
}

function zigzagLong(value: number): Buffer {
  let n = (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
  const bytes: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0n);
  return Buffer.from(bytes);
}
