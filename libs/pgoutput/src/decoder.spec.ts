import { decodePgoutput, decodePgoutputRaw, PgoutputProtocolError } from './decoder';
import { formatLsn, parseLsn } from './lsn';
import { SPAN_NULL, SPAN_UNCHANGED, tupleTexts, UNCHANGED } from './messages';

/** Builds messages byte by byte from the protocol documentation, independently of the decoder. */
class Bytes {
  private readonly parts: Buffer[] = [];
  char(c: string): this {
    this.parts.push(Buffer.from(c, 'latin1'));
    return this;
  }
  int8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  uint32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  cstring(s: string): this {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  text(s: string): this {
    const body = Buffer.from(s, 'utf8');
    return this.char('t').int32(body.length).raw(body);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe('decodePgoutput', () => {
  it('decodes begin and commit with their LSNs and times', () => {
    expect(decodePgoutput(new Bytes().char('B').int64(0x1_6b3748n).int64(763_000_000_000_000n).uint32(3_000_000_000).build())).toEqual({
      tag: 'begin',
      finalLsn: 0x16b3748n,
      commitTime: 763_000_000_000_000n,
      xid: 3_000_000_000,
    });
    expect(decodePgoutput(new Bytes().char('C').int8(0).int64(0x100n).int64(0x180n).int64(5n).build())).toEqual({
      tag: 'commit',
      commitLsn: 0x100n,
      endLsn: 0x180n,
      commitTime: 5n,
    });
  });

  it('decodes a relation with key flags, type OIDs and modifiers', () => {
    const message = new Bytes()
      .char('R').uint32(4_000_000_000).cstring('sales').cstring('orders').char('f').int16(2)
      .int8(1).cstring('id').uint32(20).int32(-1)
      .int8(0).cstring('amount').uint32(1700).int32(((12 << 16) | 2) + 4)
      .build();
    expect(decodePgoutput(message)).toEqual({
      tag: 'relation',
      relationOid: 4_000_000_000,
      namespace: 'sales',
      name: 'orders',
      replicaIdentity: 'full',
      columns: [
        { key: true, name: 'id', typeOid: 20, typeModifier: -1 },
        { key: false, name: 'amount', typeOid: 1700, typeModifier: 786_438 },
      ],
    });
  });

  it('decodes tuples with text, nulls, unchanged TOAST and multi-byte text', () => {
    const tuple = new Bytes().int16(4).text('42').char('n').char('u').text('žluťoučký kůň');
    const insert = decodePgoutput(new Bytes().char('I').uint32(16384).char('N').raw(tuple.build()).build());
    expect(insert).toEqual({ tag: 'insert', relationOid: 16384, newTuple: ['42', null, UNCHANGED, 'žluťoučký kůň'] });
  });

  it('leaves tuples as spans of the message bytes when asked to, with the same texts', () => {
    const tuple = new Bytes().int16(4).text('42').char('n').char('u').text('žluťoučký kůň');
    const message = new Bytes().char('I').uint32(16384).char('N').raw(tuple.build()).build();
    const insert = decodePgoutputRaw(message);
    if (insert.tag !== 'insert') throw new Error(`decoded ${insert.tag}`);
    expect(insert.newTuple.buffer).toBe(message);
    expect(insert.newTuple.spans).toEqual([13, 2, 0, SPAN_NULL, 0, SPAN_UNCHANGED, 22, Buffer.byteLength('žluťoučký kůň')]);
    expect(tupleTexts(insert.newTuple)).toEqual(['42', null, UNCHANGED, 'žluťoučký kůň']);
    const update = decodePgoutputRaw(new Bytes().char('U').uint32(1).char('K').int16(1).text('k').char('N').int16(1).text('n').build());
    expect(update.tag === 'update' && [tupleTexts(update.oldTuple!), tupleTexts(update.newTuple)]).toEqual([['k'], ['n']]);
    expect(() => decodePgoutputRaw(new Bytes().char('I').uint32(1).char('N').int16(1).char('t').int32(10).cstring('ab').build())).toThrow(PgoutputProtocolError);
  });

  it('decodes updates with and without old rows, and deletes', () => {
    const row = (v: string) => new Bytes().int16(1).text(v).build();
    expect(decodePgoutput(new Bytes().char('U').uint32(1).char('N').raw(row('new')).build())).toEqual({ tag: 'update', relationOid: 1, newTuple: ['new'] });
    expect(decodePgoutput(new Bytes().char('U').uint32(1).char('K').raw(row('key')).char('N').raw(row('new')).build())).toEqual({
      tag: 'update',
      relationOid: 1,
      oldKind: 'K',
      oldTuple: ['key'],
      newTuple: ['new'],
    });
    expect(decodePgoutput(new Bytes().char('D').uint32(1).char('O').raw(row('old')).build())).toEqual({ tag: 'delete', relationOid: 1, oldKind: 'O', oldTuple: ['old'] });
  });

  it('decodes truncate options, types and origins', () => {
    expect(decodePgoutput(new Bytes().char('T').uint32(2).int8(3).uint32(10).uint32(11).build())).toEqual({
      tag: 'truncate',
      relationOids: [10, 11],
      cascade: true,
      restartIdentity: true,
    });
    expect(decodePgoutput(new Bytes().char('Y').uint32(70_000).cstring('public').cstring('mood').build())).toEqual({ tag: 'type', typeOid: 70_000, namespace: 'public', name: 'mood' });
    expect(decodePgoutput(new Bytes().char('O').int64(0x10n).cstring('upstream').build())).toEqual({ tag: 'origin', originLsn: 0x10n, name: 'upstream' });
  });

  it('refuses truncated or unknown input instead of guessing', () => {
    expect(() => decodePgoutput(new Bytes().char('I').uint32(1).char('N').int16(1).char('t').int32(10).cstring('ab').build())).toThrow(PgoutputProtocolError);
    expect(() => decodePgoutput(new Bytes().char('Z').build())).toThrow('unknown pgoutput message type 90');
    expect(() => decodePgoutput(new Bytes().char('I').uint32(1).char('N').int16(1).char('b').int32(1).int8(0).build())).toThrow(PgoutputProtocolError);
  });
});

describe('LSN', () => {
  it('parses and formats PostgreSQL notation', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/0'))).toBe('0/0');
    expect(() => parseLsn('16B374D848')).toThrow('not an LSN');
  });
});
