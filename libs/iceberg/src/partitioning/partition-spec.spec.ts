import { IcebergTables, LoadedTable, UnplaceableDeletesError } from '../iceberg-tables';
import { snapshotRows } from '../snapshot-rows';
import { MemoryCatalog } from '../catalog/memory-catalog';
import { writePartitionedFiles } from '../data-files';
import { FileContent, readManifestList } from '../manifest';
import { currentSnapshot, defaultSpec, newTableMetadata, withPartitioning } from '../metadata';
import { serialize } from '../parquet/bounds';
import { IcebergSchema } from '../schema';
import { MemoryObjectStore } from '../storage/memory-store';
import { partitionFieldName, partitionPath, bindSpec, specFields, urlEncode, PartitionFieldRequest, isUnpartitioned } from './partition-spec';
import { parseTransform } from './transforms';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1, 2],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'ts', required: true, type: 'timestamptz' },
    { id: 3, name: 'note', required: false, type: 'string' },
    { id: 4, name: 'amount', required: false, type: 'decimal(9, 2)' },
  ],
};
const field = (sourceId: number, transform: string): PartitionFieldRequest => ({ sourceId, transform: parseTransform(transform) });
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('partition specs', () => {
  it("names fields by Java's convention", () => {
    expect(['identity', 'bucket[4]', 'truncate[3]', 'year', 'month', 'day', 'hour', 'void'].map((t) => partitionFieldName('c', parseTransform(t)))).toEqual([
      'c',
      'c_bucket',
      'c_trunc',
      'c_year',
      'c_month',
      'c_day',
      'c_hour',
      'c_null',
    ]);
  });

  it('gives a new table spec 0 with ids from 1000, and last-partition-id 999 when unpartitioned', () => {
    const plain = newTableMetadata('memory://w/t', SCHEMA, {});
    expect(plain['partition-specs']).toEqual([{ 'spec-id': 0, fields: [] }]);
    expect(plain['last-partition-id']).toBe(999);
    const parted = newTableMetadata('memory://w/t', SCHEMA, {}, 0, 'u', [field(2, 'month'), field(1, 'bucket[4]')]);
    expect(parted['partition-specs']).toEqual([
      {
        'spec-id': 0,
        fields: [
          { 'source-id': 2, 'field-id': 1000, name: 'ts_month', transform: 'month' },
          { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[4]' },
        ],
      },
    ]);
    expect(parted['last-partition-id']).toBe(1001);
  });

  it('evolves: reuses the ids of fields any earlier spec had, numbers new ones after last-partition-id, and makes an equal earlier spec default again', () => {
    const v0 = newTableMetadata('memory://w/t', SCHEMA, {}, 0, 'u', [field(2, 'month'), field(1, 'bucket[4]')]);
    expect(withPartitioning(v0, [field(2, 'month'), field(1, 'bucket[4]')])).toBe(v0);
    const v1 = withPartitioning(v0, [field(2, 'day')]);
    expect(v1['default-spec-id']).toBe(1);
    expect(defaultSpec(v1).fields).toEqual([{ 'source-id': 2, 'field-id': 1002, name: 'ts_day', transform: 'day' }]);
    expect(v1['last-partition-id']).toBe(1002);
    const v2 = withPartitioning(v1, [field(2, 'day'), field(1, 'bucket[4]'), field(3, 'truncate[2]')]);
    expect(defaultSpec(v2)).toEqual({
      'spec-id': 2,
      fields: [
        { 'source-id': 2, 'field-id': 1002, name: 'ts_day', transform: 'day' },
        { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[4]' },
        { 'source-id': 3, 'field-id': 1003, name: 'note_trunc', transform: 'truncate[2]' },
      ],
    });
    const back = withPartitioning(v2, [field(2, 'month'), field(1, 'bucket[4]')]);
    expect(back['default-spec-id']).toBe(0);
    expect(back['partition-specs']).toHaveLength(3);
    expect(withPartitioning(back, [])['partition-specs']).toHaveLength(4);
  });

  it('keeps names unique and off other columns, and refuses a transform the column type does not take', () => {
    const schema: IcebergSchema = { ...SCHEMA, fields: [...SCHEMA.fields, { id: 5, name: 'ts_month', required: false, type: 'int' }] };
    expect(specFields(schema, [field(2, 'month'), field(1, 'identity')], [], 999).map((f) => f.name)).toEqual(['ts_month_1000', 'id']);
    expect(() => specFields(SCHEMA, [field(3, 'month')], [], 999)).toThrow('transform month does not apply to string');
  });

  it('paths partitions URL-encoded, so a hostile value cannot add or climb folders', () => {
    const bound = bindSpec({ 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'n/o=te', transform: 'identity' }] }, { ...SCHEMA, fields: [{ ...SCHEMA.fields[2], name: 'n/o=te' }] });
    expect(partitionPath(bound, ['../../etc passwd'])).toBe('n%2Fo%3Dte=..%2F..%2Fetc+passwd');
    expect(partitionPath(bound, [null])).toBe('n%2Fo%3Dte=null');
    expect(urlEncode('é;"')).toBe('%C3%A9%3B%22');
  });

  it('keeps each folder name within what a file system takes, distinct for distinct values', () => {
    const bound = bindSpec({ 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'v', transform: 'identity' }] }, SCHEMA);
    const long = '日本'.repeat(200);
    const paths = [long, `${long}x`, `${'a'.repeat(300)}`].map((value) => partitionPath(bound, [value]));
    for (const path of paths) {
      expect(Buffer.byteLength(path)).toBeLessThanOrEqual(200);
      // Cut between escapes, never inside one.
      expect(path.split('~')[0]).toMatch(/^v=(%[0-9A-F]{2}|[A-Za-z0-9.*_+-])*$/);
    }
    expect(new Set(paths).size).toBe(3);
    expect(partitionPath(bound, ['short'])).toBe('v=short');

    // A field name longer than the folder takes (a long column name, encoded): the folder still
    // holds its '=', which marks it a partition folder, and stays within the limit.
    for (const name of ['é'.repeat(120), 'n'.repeat(250)]) {
      const named = bindSpec({ 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name, transform: 'identity' }] }, { ...SCHEMA, fields: [{ ...SCHEMA.fields[2], name }] });
      const path = partitionPath(named, ['x']);
      expect([Buffer.byteLength(path) <= 200, path.includes('='), path.split('~')[0]]).toEqual([true, true, expect.stringMatching(/^(%[0-9A-F]{2}|[A-Za-z0-9.*_+-])*=$/)]);
    }
  });
});

describe('partitioned files through a commit', () => {
  it('writes a file per partition, a manifest per spec, the tuples and the manifest-list summaries, and keeps old files in their spec after evolution', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const id = { namespace: 'ns', name: 't' };
    let table = await tables.create(id, SCHEMA, {}, [field(2, 'month'), field(1, 'bucket[4]')]);
    const rows = [
      [1n, micros('2024-01-05T00:00:00Z'), 'a', 100n],
      [1n, micros('2024-01-20T00:00:00Z'), 'b', -5n],
      [2n, micros('1969-12-31T23:59:59Z'), null, null],
    ];
    const spec0 = defaultSpec(table.metadata);
    const data = await writePartitionedFiles(tables.store, table.metadata.location, SCHEMA, spec0, SCHEMA.fields, rows);
    const keys = SCHEMA.fields.slice(0, 2);
    const deletes = await writePartitionedFiles(tables.store, table.metadata.location, SCHEMA, spec0, keys, [rows[0].slice(0, 2)], FileContent.EqualityDeletes, [1, 2]);
    expect(data).toHaveLength(2);
    expect(data.map((f) => f.filePath.split('/data/')[1].split('/').slice(0, 2).join('/')).sort()).toEqual(['ts_month=1969-12/id_bucket=' + data.find((f) => f.partition![0] === -1)!.partition![1], 'ts_month=2024-01/id_bucket=' + data.find((f) => f.partition![0] === 648)!.partition![1]].sort());
    const prepared = await tables.prepare(table, { operation: 'overwrite', addedDataFiles: data, addedDeleteFiles: deletes });
    expect(await tables.publish(table, prepared)).toBe(true);
    table = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    expect(currentSnapshot(table.metadata)!.summary['changed-partition-count']).toBe('2');

    const live = await tables.liveFiles(table.metadata);
    expect(live.data.map((e) => [e.dataFile.specId, e.dataFile.partition]).sort()).toEqual(data.map((f) => [0, f.partition]).sort());
    expect(live.deletes[0].dataFile.partition).toEqual(data.find((f) => f.partition![0] === 648)!.partition);
    const list = readManifestList(await tables.store.get(currentSnapshot(table.metadata)!['manifest-list']));
    const dataManifest = list.find((m) => m.content === 0)!;
    expect(dataManifest.partitionSpecId).toBe(0);
    expect(dataManifest.partitions![0]).toEqual({ containsNull: false, lowerBound: serialize('int', -1), upperBound: serialize('int', 648) });

    // Evolve to identity on a decimal: the old files stay in spec 0, the new in spec 1.
    const evolved = withPartitioning(table.metadata, [field(4, 'identity')]);
    const spec1 = defaultSpec(evolved);
    const more = await writePartitionedFiles(tables.store, table.metadata.location, SCHEMA, spec1, SCHEMA.fields, [rows[1], rows[2]]);
    const next = await tables.prepare(table, { operation: 'append', addedDataFiles: more, addedDeleteFiles: [], partitioning: [field(4, 'identity')] });
    expect(next.metadata['default-spec-id']).toBe(1);
    const after = await tables.liveFiles(next.metadata);
    expect(after.data.map((e) => `${e.dataFile.specId}:${String(e.dataFile.partition)}`).sort()).toEqual([...data.map((f) => `0:${String(f.partition)}`), '1:-5', '1:'].sort());
    const lists = readManifestList(await tables.store.get(currentSnapshot(next.metadata)!['manifest-list']));
    expect(lists.map((m) => m.partitionSpecId).sort()).toEqual([0, 0, 1]);
    expect(lists.find((m) => m.partitionSpecId === 1)!.partitions).toEqual([{ containsNull: true, lowerBound: serialize('decimal(9, 2)', -5n), upperBound: serialize('decimal(9, 2)', -5n) }]);
  });
});

describe('equality deletes by partition', () => {
  it('apply to data files of their own spec and partition, and everywhere when their spec is unpartitioned (spec, Scan Planning)', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const id = { namespace: 'ns', name: 'scoped' };
    let table: LoadedTable = await tables.create(id, SCHEMA, {});
    const keys = SCHEMA.fields.slice(0, 2);
    const row = (n: bigint) => [n, micros('2024-01-05T00:00:00Z'), 'x', 1n];
    const commit = async (partitioning: PartitionFieldRequest[], data: unknown[][], deletes: unknown[][]) => {
      const target = withPartitioning(table.metadata, partitioning);
      const spec = defaultSpec(target);
      const prepared = await tables.prepare(table, {
        operation: 'overwrite',
        partitioning,
        addedDataFiles: await writePartitionedFiles(tables.store, target.location, SCHEMA, spec, SCHEMA.fields, data),
        addedDeleteFiles: await writePartitionedFiles(tables.store, target.location, SCHEMA, spec, keys, deletes.map((r) => r.slice(0, 2)), FileContent.EqualityDeletes, [1, 2]),
      });
      table = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    };
    const ids = async () => {
      const out: unknown[] = [];
      for await (const r of snapshotRows(tables, table.metadata, currentSnapshot(table.metadata)!['snapshot-id'], SCHEMA.fields)) out.push(r[0]);
      return out.sort();
    };
    // Rows 1 and 2 in spec 0 (unpartitioned); 3 in spec 1.
    await commit([], [row(1n), row(2n)], []);
    await commit([field(1, 'bucket[2]')], [row(3n)], []);
    // A spec-1 delete of key 1 does not reach the spec-0 file; an unpartitioned one of key 2 does.
    await commit([field(1, 'bucket[2]')], [], [row(1n), row(3n)]);
    expect(await ids()).toEqual([1n, 2n]);
    await commit([], [], [row(2n)]);
    expect(await ids()).toEqual([1n]);
    // A spec of only void fields partitions nothing (Java's isUnpartitioned): its delete of key 1
    // reaches the spec-0 file. The void source (note) is no key column the delete carries.
    await commit([field(3, 'void')], [row(4n)], []);
    expect(defaultSpec(table.metadata).fields.map((f) => f.transform)).toEqual(['void']);
    expect(isUnpartitioned(defaultSpec(table.metadata))).toBe(true);
    await commit([field(3, 'void')], [], [row(1n)]);
    expect(await ids()).toEqual([4n]);
  });

  it('are refused, before any file is written, where an older spec with data partitions on a column they do not carry', async () => {
    const store = new MemoryObjectStore();
    const tables = new IcebergTables(store, new MemoryCatalog());
    const id = { namespace: 'ns', name: 'unplaceable' };
    const created = await tables.create(id, SCHEMA, {});
    // Another engine partitioned the table on note, no key column, and wrote a file in that spec.
    const target = withPartitioning(created.metadata, [field(3, 'identity')]);
    const files = await writePartitionedFiles(store, target.location, SCHEMA, defaultSpec(target), SCHEMA.fields, [[1n, micros('2024-01-05T00:00:00Z'), 'x', 1n]]);
    const prepared = await tables.prepare(created, { operation: 'append', partitioning: [field(3, 'identity')], addedDataFiles: files, addedDeleteFiles: [] });
    const table: LoadedTable = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    const count = async () => {
      let n = 0;
      for await (const object of store.list(table.metadata.location)) n += object.size > 0 ? 1 : 0;
      return n;
    };
    const written = await count();
    expect(written).toBeGreaterThan(0);
    const keys = SCHEMA.fields.slice(0, 2);
    // Philotes' own spec partitions on the key only; spec 1 still holds data.
    const attempt = tables.writeChangeFiles(table, { partitioning: [field(1, 'bucket[2]')] }, FileContent.EqualityDeletes, keys, [[1n, micros('2024-01-05T00:00:00Z')]], [1, 2]);
    await expect(attempt).rejects.toThrow(UnplaceableDeletesError);
    await expect(attempt).rejects.toThrow('partition spec 1, which still holds data files and partitions on column note');
    expect(await count()).toBe(written);
    // Data files carry every column, so they are placed in any spec.
    expect(await tables.writeChangeFiles(table, { partitioning: [field(1, 'bucket[2]')] }, FileContent.Data, SCHEMA.fields, [[2n, micros('2024-01-05T00:00:00Z'), 'y', 1n]])).toHaveLength(1);
  });
});
