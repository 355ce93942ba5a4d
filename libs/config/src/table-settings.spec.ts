import { seededRandom } from '@philotes/faults';
import { parseSortOrders, parseTableProperties } from './table-settings';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const rule = (result: { value: unknown } | { rule: string }) => ('rule' in result ? result.rule : undefined);

describe('PHILOTES_ICEBERG_TABLE_PROPERTIES', () => {
  it('reads tables separated by ";" and properties by ",", lower-casing only the codec', () => {
    expect(parseTableProperties('public.events:write.parquet.compression-codec=ZSTD,write.parquet.compression-level=9 ; public.t: write.target-file-size-bytes=134217728,read.split.target-size=1')).toEqual({
      value: [
        { schema: 'public', table: 'events', properties: { 'write.parquet.compression-codec': 'zstd', 'write.parquet.compression-level': '9' } },
        { schema: 'public', table: 't', properties: { 'write.target-file-size-bytes': '134217728', 'read.split.target-size': '1' } },
      ],
    });
    expect(parseTableProperties('')).toEqual({ value: [] });
  });

  it('reads format-version, the one reserved name a table entry may set', () => {
    expect(parseTableProperties('public.t:format-version=3')).toEqual({ value: [{ schema: 'public', table: 't', properties: { 'format-version': '3' } }] });
  });

  it('reads quoted names holding dots, colons, semicolons, equals signs, quotes and unicode', () => {
    expect(parseTableProperties('"my.schema"."a:b;c=d ""q""":write.parquet.compression-codec=gzip;"schéma"."表":engine.flag=on')).toEqual({
      value: [
        { schema: 'my.schema', table: 'a:b;c=d "q"', properties: { 'write.parquet.compression-codec': 'gzip' } },
        { schema: 'schéma', table: '表', properties: { 'engine.flag': 'on' } },
      ],
    });
  });

  const SEED = 20261202;
  it.each(Array.from({ length: 20 }, (_, i) => SEED + i))('reads back any quoted names it is given (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const alphabet = ['a', 'Z', '.', ':', ';', '=', ',', '"', ' ', '(', ')', 'é', '😀', '\\', '_'];
    const name = () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const tables = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => ({ schema: `${name()}${i}`, table: name() }));
    const raw = tables.map((t) => `${quote(t.schema)}.${quote(t.table)}:write.parquet.page-size-bytes=${1024 + tables.indexOf(t)}`).join(';');
    expect(parseTableProperties(raw)).toEqual({ value: tables.map((t, i) => ({ ...t, properties: { 'write.parquet.page-size-bytes': String(1024 + i) } })) });
  });

  it.each([
    ['public.t:uuid=x', 'uuid is reserved by Iceberg'],
    ['public.t:current-snapshot-id=1', 'current-snapshot-id is reserved by Iceberg'],
    ['public.t:format-version=4', 'format-version must be 2 or 3'],
    ['public.t:philotes.mode=append', "philotes.mode: philotes.* properties are Philotes' own bookkeeping"],
    ['public.t:write.format.default=orc', 'write.format.default must be parquet (the only format Philotes writes)'],
    ['public.t:write.parquet.compression-codec=lzo', 'write.parquet.compression-codec must be one of zstd, gzip, brotli, snappy, uncompressed'],
    ['public.t:write.parquet.compression-codec=zstd,write.parquet.compression-level=23', 'write.parquet.compression-level must be between 1 and 22 for zstd'],
    ['public.t:write.parquet.compression-codec=gzip,write.parquet.compression-level=10', 'write.parquet.compression-level must be between 0 and 9 for gzip'],
    ['public.t:write.parquet.compression-codec=snappy,write.parquet.compression-level=1', 'write.parquet.compression-level: snappy takes no level'],
    ['public.t:write.parquet.compression-level=3', 'write.parquet.compression-level needs write.parquet.compression-codec in the same table entry'],
    ['public.t:write.parquet.row-group-size-bytes=10', 'write.parquet.row-group-size-bytes must be a number of bytes between 1024 and 2147483648'],
    ['public.t:write.target-file-size-bytes=64MB', 'write.target-file-size-bytes must be a number of bytes between 1024 and 4294967296'],
  ])('refuses %s', (raw, problem) => {
    expect(rule(parseTableProperties(raw))).toBe(`must set no reserved or invalid property: ${problem}`);
  });

  it.each([
    ['public', 'expected "." at character 7'],
    ['public.t', 'expected ":" at character 9'],
    ['public.t:', 'expected a property name at character 10'],
    ['public.t:a', 'expected "=" at character 11'],
    ['public.t:a=', 'expected a value at character 12'],
    ['"public.t:a=1', 'unterminated quoted schema name at character 14'],
    ['"".t:a=1', 'empty schema name at character 3'],
    ['public.t:a=1 public.u:b=2', 'unquoted value "1 public.u:b=2" holds a space (quote it, or a separator is missing) at character 26'],
  ])('refuses the malformed %p', (raw, problem) => {
    expect(rule(parseTableProperties(raw))).toBe(`must list schema.table:property=value,..., tables separated by ";" (${problem})`);
  });

  it('reads a quoted value holding separators', () => {
    expect(parseTableProperties('public.t:engine.note="x; y, z=1"')).toEqual({ value: [{ schema: 'public', table: 't', properties: { 'engine.note': 'x; y, z=1' } }] });
  });

  it('refuses a table listed twice', () => {
    expect(rule(parseTableProperties('public.t:a=1;"public"."t":b=2'))).toBe('must name each table once (public.t is listed twice)');
  });
});

describe('PHILOTES_ICEBERG_SORT_ORDER', () => {
  it('reads columns with the spec defaults: asc nulls first, desc nulls last', () => {
    expect(parseSortOrders('public.events=ts desc nulls last,id;public.t=v desc, "Odd, Name" asc nulls last, identity(k) NULLS FIRST, w nulls-last')).toEqual({
      value: [
        { schema: 'public', table: 'events', fields: [{ column: 'ts', direction: 'desc', nullOrder: 'nulls-last' }, { column: 'id', direction: 'asc', nullOrder: 'nulls-first' }] },
        {
          schema: 'public',
          table: 't',
          fields: [
            { column: 'v', direction: 'desc', nullOrder: 'nulls-last' },
            { column: 'Odd, Name', direction: 'asc', nullOrder: 'nulls-last' },
            { column: 'k', direction: 'asc', nullOrder: 'nulls-first' },
            { column: 'w', direction: 'asc', nullOrder: 'nulls-last' },
          ],
        },
      ],
    });
  });

  it('reads transforms of columns as Iceberg writes them', () => {
    expect(parseSortOrders('public.t=bucket(16,id),truncate(4, "Odd, ""Name""") desc,day(ts) nulls last,identity(k)')).toEqual({
      value: [
        {
          schema: 'public',
          table: 't',
          fields: [
            { column: 'id', transform: 'bucket[16]', direction: 'asc', nullOrder: 'nulls-first' },
            { column: 'Odd, "Name"', transform: 'truncate[4]', direction: 'desc', nullOrder: 'nulls-last' },
            { column: 'ts', transform: 'day', direction: 'asc', nullOrder: 'nulls-last' },
            { column: 'k', direction: 'asc', nullOrder: 'nulls-first' },
          ],
        },
      ],
    });
  });

  it.each([
    ['public.t=bucket(0,id)', 'must write bucket(N, column) with N a positive integer (not "bucket(0,id)")'],
    ['public.t=truncate(x, name) desc', 'must write truncate(N, column) with N a positive integer (not "truncate(x, name)")'],
    ['public.t=zorder(a)', 'must use a sort transform of identity, bucket(N,col), truncate(W,col), year, month, day, hour or void (not zorder)'],
    ['public.t=id sideways', 'must write each sort field as column [asc|desc] [nulls first|nulls last] (not "sideways")'],
    ['public.t=id desc nulls', 'must write each sort field as column [asc|desc] [nulls first|nulls last] (not "desc nulls")'],
    ['public.t=', 'must list schema.table=column or transform(column) [asc|desc] [nulls first|nulls last],..., tables separated by ";" (expected a sort field at character 10)'],
    ['public.t=a;public.t=b', 'must name each table once (public.t is listed twice)'],
  ])('refuses %p', (raw, problem) => {
    expect(rule(parseSortOrders(raw))).toBe(problem);
  });
});
