import { ExtData } from '@msgpack/msgpack';
import { Extension } from './codec';
import { ChangePayload, payloadOfWire } from './payload';
import { ColumnSchema } from './value-kind';
import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UNCHANGED_TOAST } from './values';

/**
 * Decodes stored payloads for the writer's hot path: the same values as `decodePayload` (its
 * tests compare the two), read in one pass over the bytes. The generic decoder goes through a
 * subarray, a DataView and a callback for every timestamp or numeric and keeps a state stack for
 * arrays; this reads each extension's bytes in place. Every MessagePack type is understood, so
 * anything a future encoder writes still decodes.
 */
export class PayloadReader {
  private bytes: Buffer = Buffer.alloc(0);
  private position = 0;

  read(bytes: Uint8Array, columns: readonly ColumnSchema[]): ChangePayload {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = 0;
    const wire = this.value();
    if (this.position !== this.bytes.length) throw new RangeError(`payload has ${this.bytes.length - this.position} bytes after its value`);
    return payloadOfWire(wire, columns);
  }

  private need(size: number): number {
    const at = this.position;
    if (at + size > this.bytes.length) throw new RangeError('payload ends early');
    this.position = at + size;
    return at;
  }

  private value(): unknown {
    const b = this.bytes;
    const head = b[this.need(1)];
    if (head < 0x80) return head;
    if (head >= 0xe0) return head - 0x100;
    if (head >= 0xa0 && head < 0xc0) return this.string(head & 0x1f);
    if (head >= 0x90 && head < 0xa0) return this.array(head & 0x0f);
    if (head >= 0x80 && head < 0x90) return this.map(head & 0x0f);
    switch (head) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.binary(b[this.need(1)]);
      case 0xc5:
        return this.binary(b.readUInt16BE(this.need(2)));
      case 0xc6:
        return this.binary(b.readUInt32BE(this.need(4)));
      case 0xc7:
        return this.extension(b[this.need(1)]);
      case 0xc8:
        return this.extension(b.readUInt16BE(this.need(2)));
      case 0xc9:
        return this.extension(b.readUInt32BE(this.need(4)));
      case 0xca:
        return b.readFloatBE(this.need(4));
      case 0xcb:
        return b.readDoubleBE(this.need(8));
      case 0xcc:
        return b[this.need(1)];
      case 0xcd:
        return b.readUInt16BE(this.need(2));
      case 0xce:
        return b.readUInt32BE(this.need(4));
      case 0xcf:
        return b.readBigUInt64BE(this.need(8));
      case 0xd0:
        return b.readInt8(this.need(1));
      case 0xd1:
        return b.readInt16BE(this.need(2));
      case 0xd2:
        return b.readInt32BE(this.need(4));
      case 0xd3:
        return b.readBigInt64BE(this.need(8));
      case 0xd4:
        return this.extension(1);
      case 0xd5:
        return this.extension(2);
      case 0xd6:
        return this.extension(4);
      case 0xd7:
        return this.extension(8);
      case 0xd8:
        return this.extension(16);
      case 0xd9:
        return this.string(b[this.need(1)]);
      case 0xda:
        return this.string(b.readUInt16BE(this.need(2)));
      case 0xdb:
        return this.string(b.readUInt32BE(this.need(4)));
      case 0xdc:
        return this.array(b.readUInt16BE(this.need(2)));
      case 0xdd:
        return this.array(b.readUInt32BE(this.need(4)));
      case 0xde:
        return this.map(b.readUInt16BE(this.need(2)));
      case 0xdf:
        return this.map(b.readUInt32BE(this.need(4)));
      default:
        throw new RangeError(`unknown MessagePack type 0x${head.toString(16)}`);
    }
  }

  private string(size: number): string {
    const at = this.need(size);
    // Native and flat. (Building short strings char by char measured no faster, and from 13
    // characters on V8 keeps them as chains of cons strings — retained with the batch's rows.)
    return this.bytes.toString('utf8', at, at + size);
  }

  private binary(size: number): Uint8Array {
    const at = this.need(size);
    return this.bytes.subarray(at, at + size);
  }

  private array(count: number): unknown[] {
    const items = new Array<unknown>(count);
    for (let i = 0; i < count; i++) items[i] = this.value();
    return items;
  }

  private map(count: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') throw new RangeError('payload map key is neither string nor number');
      if (key === '__proto__') throw new RangeError('payload map key __proto__ is not allowed');
      object[key] = this.value();
    }
    return object;
  }

  private extension(size: number): unknown {
    const b = this.bytes;
    const type = b.readInt8(this.need(1));
    const at = this.need(size);
    // Shorter than its type needs: corrupt (the generic decoder fails reading past the data too).
    if (size < (EXTENSION_SIZE[type] ?? 0)) throw new RangeError(`payload extension ${type} has ${size} bytes, too few`);
    switch (type) {
      case Extension.Numeric:
        return new PgNumeric(b.toString('utf8', at, at + size));
      case Extension.Timestamp:
        return new PgTimestamp(b.readBigInt64BE(at), false);
      case Extension.TimestampTz:
        return new PgTimestamp(b.readBigInt64BE(at), true);
      case Extension.Date:
        return new PgDate(b.readInt32BE(at));
      case Extension.Time:
        return new PgTime(b.readBigInt64BE(at));
      case Extension.TimeTz:
        return new PgTimeTz(b.readBigInt64BE(at), b.readInt32BE(at + 8));
      case Extension.Interval:
        return new PgInterval(b.readInt32BE(at), b.readInt32BE(at + 4), b.readBigInt64BE(at + 8));
      case Extension.UnchangedToast:
        return UNCHANGED_TOAST;
      case Extension.Float64:
        return b.readDoubleBE(at);
      default:
        return new ExtData(type, b.subarray(at, at + size));
    }
  }
}

/** Bytes each fixed-size extension holds. */
const EXTENSION_SIZE: Readonly<Record<number, number>> = {
  [Extension.Timestamp]: 8,
  [Extension.TimestampTz]: 8,
  [Extension.Date]: 4,
  [Extension.Time]: 8,
  [Extension.TimeTz]: 12,
  [Extension.Interval]: 16,
  [Extension.Float64]: 8,
};
