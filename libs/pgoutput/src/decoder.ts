import { PgoutputMessage, RawTuple, ReplicaIdentity, SPAN_NULL, SPAN_UNCHANGED, TupleData, UNCHANGED } from './messages';

/** The byte stream is not pgoutput as we know it (protocol version, corruption). */
export class PgoutputProtocolError extends Error {}

const IDENTITY: Readonly<Record<string, ReplicaIdentity>> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/**
 * Decodes one pgoutput message (protocol version 1, text tuples). Tuple values stay text: how to
 * read them depends on the column type, which the caller knows from the relation.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
export function decodePgoutput(buffer: Buffer): PgoutputMessage {
  return decodeWith(buffer, (r) => r.tuple());
}

/**
 * The same, with tuples left as bytes of `buffer` (which must not change while they are read):
 * what the reader's hot path parses and re-encodes without a string per value.
 */
export function decodePgoutputRaw(buffer: Buffer): PgoutputMessage<RawTuple> {
  return decodeWith(buffer, (r) => r.rawTuple());
}

function decodeWith<T>(buffer: Buffer, tuple: (r: Cursor) => T): PgoutputMessage<T> {
  const r = new Cursor(buffer);
  const tag = r.byte();
  switch (tag) {
    case 0x42 /* B */:
      return { tag: 'begin', finalLsn: r.uint64(), commitTime: r.int64(), xid: r.uint32() };
    case 0x43 /* C */: {
      r.byte(); // flags, unused
      return { tag: 'commit', commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.int64() };
    }
    case 0x4f /* O */:
      return { tag: 'origin', originLsn: r.uint64(), name: r.cstring() };
    case 0x52 /* R */: {
      const relationOid = r.uint32();
      const namespace = r.cstring();
      const name = r.cstring();
      const identity = IDENTITY[String.fromCharCode(r.byte())];
      if (!identity) throw new PgoutputProtocolError('unknown replica identity');
      const count = r.int16();
      const columns = [];
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        columns.push({ key: (flags & 1) === 1, name: r.cstring(), typeOid: r.uint32(), typeModifier: r.int32() });
      }
      return { tag: 'relation', relationOid, namespace, name, replicaIdentity: identity, columns };
    }
    case 0x59 /* Y */:
      return { tag: 'type', typeOid: r.uint32(), namespace: r.cstring(), name: r.cstring() };
    case 0x49 /* I */: {
      const relationOid = r.uint32();
      r.expect(0x4e /* N */);
      return { tag: 'insert', relationOid, newTuple: tuple(r) };
    }
    case 0x55 /* U */: {
      const relationOid = r.uint32();
      const kind = r.byte();
      if (kind === 0x4b /* K */ || kind === 0x4f /* O */) {
        const oldKind = kind === 0x4b ? 'K' : 'O';
        const oldTuple = tuple(r);
        r.expect(0x4e);
        return { tag: 'update', relationOid, oldKind, oldTuple, newTuple: tuple(r) };
      }
      if (kind !== 0x4e) throw new PgoutputProtocolError(`unexpected update submessage ${kind}`);
      return { tag: 'update', relationOid, newTuple: tuple(r) };
    }
    case 0x44 /* D */: {
      const relationOid = r.uint32();
      const kind = r.byte();
      if (kind !== 0x4b && kind !== 0x4f) throw new PgoutputProtocolError(`unexpected delete submessage ${kind}`);
      return { tag: 'delete', relationOid, oldKind: kind === 0x4b ? 'K' : 'O', oldTuple: tuple(r) };
    }
    case 0x54 /* T */: {
      const count = r.uint32();
      const options = r.byte();
      const relationOids = [];
      for (let i = 0; i < count; i++) relationOids.push(r.uint32());
      return { tag: 'truncate', relationOids, cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2 };
    }
    case 0x4d /* M */: {
      r.byte(); // flags
      r.uint64(); // lsn
      return { tag: 'message', prefix: r.cstring() };
    }
    default:
      throw new PgoutputProtocolError(`unknown pgoutput message type ${tag}`);
  }
}

/** A read position in one message. Reads past the end throw rather than return garbage. */
class Cursor {
  private position = 0;

  constructor(private readonly buffer: Buffer) {}

  private need(bytes: number): void {
    if (this.position + bytes > this.buffer.length) throw new PgoutputProtocolError('message ends early');
  }

  byte(): number {
    this.need(1);
    return this.buffer[this.position++];
  }

  expect(value: number): void {
    const actual = this.byte();
    if (actual !== value) throw new PgoutputProtocolError(`expected byte ${value}, found ${actual}`);
  }

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }

  uint64(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64BE(this.position);
    this.position += 8;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.position);
    if (end < 0) throw new PgoutputProtocolError('unterminated string');
    const value = this.buffer.toString('utf8', this.position, end);
    this.position = end + 1;
    return value;
  }

  tuple(): TupleData {
    const count = this.int16();
    const values: TupleData = new Array(count);
    for (let i = 0; i < count; i++) {
      const kind = this.byte();
      if (kind === 0x74 /* t */) {
        const length = this.int32();
        this.need(length);
        values[i] = this.buffer.toString('utf8', this.position, this.position + length);
        this.position += length;
      } else if (kind === 0x6e /* n */) {
        values[i] = null;
      } else if (kind === 0x75 /* u */) {
        values[i] = UNCHANGED;
      } else {
        // 'b' (binary) only arrives when the session asks for binary mode, which we never do.
        throw new PgoutputProtocolError(`unexpected tuple value kind ${kind}`);
      }
    }
    return values;
  }

  rawTuple(): RawTuple {
    const count = this.int16();
    const spans: number[] = new Array(2 * count);
    for (let i = 0; i < count; i++) {
      const kind = this.byte();
      if (kind === 0x74 /* t */) {
        const length = this.int32();
        this.need(length);
        spans[2 * i] = this.position;
        spans[2 * i + 1] = length;
        this.position += length;
      } else if (kind === 0x6e /* n */) {
        spans[2 * i] = 0;
        spans[2 * i + 1] = SPAN_NULL;
      } else if (kind === 0x75 /* u */) {
        spans[2 * i] = 0;
        spans[2 * i + 1] = SPAN_UNCHANGED;
      } else {
        throw new PgoutputProtocolError(`unexpected tuple value kind ${kind}`);
      }
    }
    return { buffer: this.buffer, spans };
  }
}
