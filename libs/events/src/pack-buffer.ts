/**
 * A MessagePack writer for the reader's hot path: headers and scalars written straight into one
 * reused buffer, with the same format choices as the `@msgpack/msgpack` encoder the rest of the
 * codec uses (so both produce identical bytes, which the payload writer's tests check). Values
 * with no direct writer go through that encoder and are appended as they are: MessagePack is
 * compositional, an array is its header followed by its items.
 */
export class PackBuffer {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private position = 0;

  /** Starts a new message. */
  reset(): void {
    this.position = 0;
  }

  /** The message written since the last reset, in its own memory (the buffer is reused). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.position);
    this.bytes.copy(out, 0, 0, this.position);
    return out;
  }

  private ensure(size: number): void {
    if (this.position + size <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.position + size));
    this.bytes.copy(grown, 0, 0, this.position);
    this.bytes = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.bytes[this.position++] = value;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(value: boolean): void {
    this.byte(value ? 0xc3 : 0xc2);
  }

  /** A safe integer; beyond 32 bits as float 64, as `@msgpack/msgpack` does with useBigInt64. */
  int(value: number): void {
    this.ensure(9);
    const b = this.bytes;
    if (value >= 0) {
      if (value < 0x80) b[this.position++] = value;
      else if (value < 0x100) {
        b[this.position++] = 0xcc;
        b[this.position++] = value;
      } else if (value < 0x10000) {
        b[this.position++] = 0xcd;
        this.position = b.writeUInt16BE(value, this.position);
      } else if (value < 0x100000000) {
        b[this.position++] = 0xce;
        this.position = b.writeUInt32BE(value, this.position);
      } else this.float64(value);
    } else if (value >= -0x20) b[this.position++] = 0xe0 | (value + 0x20);
    else if (value >= -0x80) {
      b[this.position++] = 0xd0;
      this.position = b.writeInt8(value, this.position);
    } else if (value >= -0x8000) {
      b[this.position++] = 0xd1;
      this.position = b.writeInt16BE(value, this.position);
    } else if (value >= -0x80000000) {
      b[this.position++] = 0xd2;
      this.position = b.writeInt32BE(value, this.position);
    } else this.float64(value);
  }

  float64(value: number): void {
    this.ensure(9);
    this.bytes[this.position++] = 0xcb;
    this.position = this.bytes.writeDoubleBE(value, this.position);
  }

  /** The raw big-endian bytes of a signed 64-bit integer given as its high (signed) and low (unsigned) 32 bits. */
  int64Parts(high: number, low: number): void {
    this.ensure(8);
    this.position = this.bytes.writeInt32BE(high, this.position);
    this.position = this.bytes.writeUInt32BE(low, this.position);
  }

  int32Raw(value: number): void {
    this.ensure(4);
    this.position = this.bytes.writeInt32BE(value, this.position);
  }

  float64Raw(value: number): void {
    this.ensure(8);
    this.position = this.bytes.writeDoubleBE(value, this.position);
  }

  arrayHeader(count: number): void {
    this.header(count, 0x90, 16, 0xdc, 0xdd);
  }

  mapHeader(count: number): void {
    this.header(count, 0x80, 16, 0xde, 0xdf);
  }

  strHeader(size: number): void {
    if (size < 32) this.byte(0xa0 + size);
    else if (size < 0x100) {
      this.byte(0xd9);
      this.byte(size);
    } else this.sized(size, 0xda, 0xdb);
  }

  binHeader(size: number): void {
    if (size < 0x100) {
      this.byte(0xc4);
      this.byte(size);
    } else this.sized(size, 0xc5, 0xc6);
  }

  extHeader(type: number, size: number): void {
    const fixed = FIXEXT[size];
    if (fixed !== undefined) this.byte(fixed);
    else if (size < 0x100) {
      this.byte(0xc7);
      this.byte(size);
    } else this.sized(size, 0xc8, 0xc9);
    this.byte(type);
  }

  /** Bytes as they are (a string's UTF-8, an extension's data, a value encoded elsewhere). */
  raw(source: Uint8Array, start = 0, end = source.length): void {
    const size = end - start;
    this.ensure(size);
    if (size < 16) {
      // Short runs: a loop beats the native copy's call overhead.
      for (let i = start; i < end; i++) this.bytes[this.position++] = source[i];
      return;
    }
    this.bytes.set(source.subarray(start, end), this.position);
    this.position += size;
  }

  /** Like {@link raw}, ASCII letters lower-cased (a uuid's canonical form). */
  rawLowerAscii(source: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    for (let i = start; i < end; i++) {
      const c = source[i];
      this.bytes[this.position++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    }
  }

  private header(count: number, fix: number, fixLimit: number, marker16: number, marker32: number): void {
    if (count < fixLimit) this.byte(fix + count);
    else this.sized(count, marker16, marker32);
  }

  private sized(size: number, marker16: number, marker32: number): void {
    this.ensure(5);
    if (size < 0x10000) {
      this.bytes[this.position++] = marker16;
      this.position = this.bytes.writeUInt16BE(size, this.position);
    } else {
      this.bytes[this.position++] = marker32;
      this.position = this.bytes.writeUInt32BE(size, this.position);
    }
  }
}

/** fixext 1/2/4/8/16 markers by data size. */
const FIXEXT: Readonly<Record<number, number>> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
