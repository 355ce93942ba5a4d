/**
 * The Thrift compact protocol, whole: Parquet's footer and page headers are compact-protocol
 * structs, and rewriting a file's pages (page-compression.ts) means changing a few of their fields
 * while keeping every other field byte for byte, including ones this code has no name for. So a
 * struct decodes to its fields in order with their wire types, and encodes back the same way;
 * decoding then encoding an unchanged struct gives the bytes it came from.
 */

/** Wire types of the compact protocol. A bool field carries its value in the type (1 true, 2 false). */
export const TTYPE = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

/** Integers (byte, i16, i32, i64) as numbers: Parquet's are offsets, sizes and counts, far below 2^53. */
export type ThriftValue = number | boolean | Uint8Array | ThriftStruct | ThriftList | ThriftMap;

export interface ThriftField {
  readonly id: number;
  /** The wire type; for a bool field TTYPE.TRUE whatever its value (the value says which). */
  readonly type: number;
  value: ThriftValue;
}

/** A list or set; bool elements keep their raw byte (implementations differ on false: 0 or 2). */
export interface ThriftList {
  readonly kind: 'list';
  readonly wireType: number;
  readonly elementType: number;
  readonly items: ThriftValue[];
}

export interface ThriftMap {
  readonly kind: 'map';
  readonly keyType: number;
  readonly valueType: number;
  readonly entries: Array<[ThriftValue, ThriftValue]>;
}

export class ThriftStruct {
  constructor(readonly fields: ThriftField[] = []) {}

  get(id: number): ThriftValue | undefined {
    return this.fields.find((f) => f.id === id)?.value;
  }

  /** An integer field's value, or undefined when absent. */
  number(id: number): number | undefined {
    const value = this.get(id);
    return typeof value === 'number' ? value : undefined;
  }

  struct(id: number): ThriftStruct | undefined {
    const value = this.get(id);
    return value instanceof ThriftStruct ? value : undefined;
  }

  list(id: number): ThriftList | undefined {
    const value = this.get(id);
    return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'list' ? value : undefined;
  }

  /** Replaces a field's value in place, or appends the field (kept in id order, as writers emit them). */
  set(id: number, type: number, value: ThriftValue): void {
    const field = this.fields.find((f) => f.id === id);
    if (field) {
      field.value = value;
      return;
    }
    const at = this.fields.findIndex((f) => f.id > id);
    this.fields.splice(at < 0 ? this.fields.length : at, 0, { id, type, value });
  }

  delete(id: number): void {
    const at = this.fields.findIndex((f) => f.id === id);
    if (at >= 0) this.fields.splice(at, 1);
  }
}

export class ThriftDecodeError extends Error {}

/** Decodes one struct starting at `offset`; `end` is the offset just past it. */
export function decodeStruct(bytes: Uint8Array, offset = 0): { struct: ThriftStruct; end: number } {
  const reader = new Reader(bytes, offset);
  const struct = reader.struct();
  return { struct, end: reader.at };
}

export function encodeStruct(struct: ThriftStruct): Uint8Array {
  const writer = new Writer();
  writer.struct(struct);
  return writer.bytes();
}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {}

  struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let id = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return new ThriftStruct(fields);
      const type = head & 0x0f;
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      if (type === TTYPE.TRUE || type === TTYPE.FALSE) fields.push({ id, type: TTYPE.TRUE, value: type === TTYPE.TRUE });
      else fields.push({ id, type, value: this.value(type) });
    }
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case TTYPE.TRUE:
      case TTYPE.FALSE:
      case TTYPE.BYTE:
        return this.byte();
      case TTYPE.I16:
      case TTYPE.I32:
      case TTYPE.I64:
        return this.zigzag();
      case TTYPE.DOUBLE:
      case TTYPE.BINARY: {
        const length = type === TTYPE.DOUBLE ? 8 : this.varint();
        if (this.at + length > this.bytes.length) throw new ThriftDecodeError(`thrift value of ${length} bytes at ${this.at} runs past the end`);
        const value = this.bytes.slice(this.at, this.at + length);
        this.at += length;
        return value;
      }
      case TTYPE.LIST:
      case TTYPE.SET: {
        const head = this.byte();
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        const elementType = head & 0x0f;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { kind: 'list', wireType: type, elementType, items };
      }
      case TTYPE.MAP: {
        const size = this.varint();
        const kinds = size === 0 ? 0 : this.byte();
        const entries: Array<[ThriftValue, ThriftValue]> = [];
        for (let i = 0; i < size; i++) entries.push([this.value(kinds >> 4), this.value(kinds & 0x0f)]);
        return { kind: 'map', keyType: kinds >> 4, valueType: kinds & 0x0f, entries };
      }
      case TTYPE.STRUCT:
        return this.struct();
      default:
        throw new ThriftDecodeError(`thrift compact type ${type} at byte ${this.at - 1}`);
    }
  }

  private byte(): number {
    if (this.at >= this.bytes.length) throw new ThriftDecodeError(`thrift struct runs past the end at byte ${this.at}`);
    return this.bytes[this.at++];
  }

  private varint(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        // Past 2^53 a number would not encode back to the same bytes.
        if (result > Number.MAX_SAFE_INTEGER) throw new ThriftDecodeError(`thrift varint past 2^53 at byte ${this.at}`);
        return result;
      }
      if (shift > 56) throw new ThriftDecodeError(`thrift varint longer than 64 bits at byte ${this.at}`);
    }
  }

  private zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
}

class Writer {
  private readonly chunks: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }

  struct(struct: ThriftStruct): void {
    let last = 0;
    for (const field of struct.fields) {
      const type = field.type === TTYPE.TRUE || field.type === TTYPE.FALSE ? (field.value ? TTYPE.TRUE : TTYPE.FALSE) : field.type;
      const delta = field.id - last;
      if (delta > 0 && delta <= 15) this.chunks.push((delta << 4) | type);
      else {
        this.chunks.push(type);
        this.zigzag(field.id);
      }
      last = field.id;
      if (type !== TTYPE.TRUE && type !== TTYPE.FALSE) this.value(type, field.value);
    }
    this.chunks.push(0);
  }

  private value(type: number, value: ThriftValue): void {
    switch (type) {
      case TTYPE.TRUE:
      case TTYPE.FALSE:
      case TTYPE.BYTE:
        this.chunks.push((value as number) & 0xff);
        return;
      case TTYPE.I16:
      case TTYPE.I32:
      case TTYPE.I64:
        this.zigzag(value as number);
        return;
      case TTYPE.DOUBLE:
      case TTYPE.BINARY: {
        const bytes = value as Uint8Array;
        if (type === TTYPE.BINARY) this.varint(bytes.length);
        for (const b of bytes) this.chunks.push(b);
        return;
      }
      case TTYPE.LIST:
      case TTYPE.SET: {
        const list = value as ThriftList;
        const size = list.items.length;
        if (size < 15) this.chunks.push((size << 4) | list.elementType);
        else {
          this.chunks.push(0xf0 | list.elementType);
          this.varint(size);
        }
        for (const item of list.items) this.value(list.elementType, item);
        return;
      }
      case TTYPE.MAP: {
        const map = value as ThriftMap;
        this.varint(map.entries.length);
        if (map.entries.length > 0) this.chunks.push((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case TTYPE.STRUCT:
        this.struct(value as ThriftStruct);
        return;
      default:
        throw new Error(`thrift compact type ${type}`);
    }
  }

  private varint(n: number): void {
    let rest = n;
    while (rest >= 0x80) {
      this.chunks.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.chunks.push(rest);
  }

  private zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
}
