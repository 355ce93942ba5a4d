import { DEFAULT_PARQUET_OPTIONS } from '../write-properties';
import { writeParquetFile } from './parquet-file';
import { decodeStruct, encodeStruct, ThriftStruct, TTYPE } from './thrift-compact';

describe('thrift compact protocol', () => {
  it('encodes what it decodes byte for byte, fields it has no name for included', () => {
    const struct = new ThriftStruct([
      { id: 1, type: TTYPE.I32, value: -5 },
      { id: 2, type: TTYPE.TRUE, value: false },
      { id: 3, type: TTYPE.TRUE, value: true },
      { id: 40, type: TTYPE.I64, value: 2 ** 40 + 3 }, // a jump past 15: long field header
      { id: 41, type: TTYPE.BINARY, value: new TextEncoder().encode('héllo') },
      { id: 42, type: TTYPE.DOUBLE, value: Uint8Array.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]) },
      { id: 43, type: TTYPE.LIST, value: { kind: 'list', wireType: TTYPE.LIST, elementType: TTYPE.I32, items: Array.from({ length: 20 }, (_, i) => i - 10) } },
      { id: 44, type: TTYPE.LIST, value: { kind: 'list', wireType: TTYPE.LIST, elementType: TTYPE.TRUE, items: [1, 2, 0] } }, // bools keep their raw byte
      { id: 45, type: TTYPE.SET, value: { kind: 'list', wireType: TTYPE.SET, elementType: TTYPE.BINARY, items: [] } },
      { id: 46, type: TTYPE.MAP, value: { kind: 'map', keyType: TTYPE.BINARY, valueType: TTYPE.I16, entries: [[Uint8Array.from([97]), 7]] } },
      { id: 47, type: TTYPE.MAP, value: { kind: 'map', keyType: 0, valueType: 0, entries: [] } },
      { id: 48, type: TTYPE.STRUCT, value: new ThriftStruct([{ id: 1, type: TTYPE.BYTE, value: 255 }]) },
    ]);
    const bytes = encodeStruct(struct);
    const { struct: decoded, end } = decodeStruct(bytes);
    expect(end).toBe(bytes.length);
    expect(encodeStruct(decoded)).toEqual(bytes);
    expect(decoded.number(1)).toBe(-5);
    expect(decoded.get(2)).toBe(false);
    expect(decoded.get(3)).toBe(true);
    expect(decoded.number(40)).toBe(2 ** 40 + 3);
    expect(new TextDecoder().decode(decoded.get(41) as Uint8Array)).toBe('héllo');
    expect(decoded.list(43)?.items).toEqual(Array.from({ length: 20 }, (_, i) => i - 10));
    expect(decoded.struct(48)?.number(1)).toBe(255);
  });

  it("re-encodes parquet-wasm's footers and page headers to the bytes they were", async () => {
    const schema = {
      type: 'struct' as const,
      'schema-id': 0,
      fields: [
        { id: 1, name: 'id', required: true, type: 'long' as const },
        { id: 2, name: 'name', required: false, type: 'string' as const },
        { id: 3, name: 'tags', required: false, type: { type: 'list' as const, 'element-id': 4, element: 'int' as const, 'element-required': false } },
      ],
    };
    const rows = 5000;
    const file = await writeParquetFile(
      schema,
      [
        { field: schema.fields[0], values: Array.from({ length: rows }, (_, i) => BigInt(i)) },
        { field: schema.fields[1], values: Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : `n${i % 97}`)) },
        { field: schema.fields[2], values: Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? null : [i, null, -i])) },
      ],
      { parquet: { ...DEFAULT_PARQUET_OPTIONS, rowGroupBytes: 16 * 1024, pageBytes: 1024 } },
    );
    const bytes = file.bytes;
    const footerLength = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
    const footerStart = bytes.length - 8 - footerLength;
    const { struct: footer, end } = decodeStruct(bytes, footerStart);
    expect(end).toBe(bytes.length - 8);
    expect(encodeStruct(footer)).toEqual(bytes.subarray(footerStart, end));
    expect(footer.list(4)!.items.length).toBeGreaterThan(1); // several row groups

    // The first page header of the file, right after the magic.
    const header = decodeStruct(bytes, 4);
    expect(encodeStruct(header.struct)).toEqual(bytes.subarray(4, header.end));
  });
});
