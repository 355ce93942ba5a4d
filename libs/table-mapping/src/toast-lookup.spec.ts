import { currentSnapshot, FileContent, IcebergSchema, IcebergTables, LoadedTable, MemoryCatalog, MemoryObjectStore, parseTransform, writePartitionedFiles, defaultSpec } from '@philotes/iceberg';
import { rowKey } from './batch-assembler';
import { currentRows } from './toast-lookup';

const wantedKeys = (...ids: bigint[]) => new Map(ids.map((id) => [rowKey([id], [0]), [id] as unknown[]]));

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'big', required: false, type: 'string' },
  ],
};

/** Counts the data files read, to see which a lookup skipped. */
class CountingStore extends MemoryObjectStore {
  readonly read: string[] = [];
  override async get(uri: string): Promise<Uint8Array> {
    if (uri.endsWith('.parquet')) this.read.push(uri);
    return super.get(uri);
  }
}

async function tableWith(partitioning: 'bucket' | 'none'): Promise<{ store: CountingStore; tables: IcebergTables; table: LoadedTable }> {
  const store = new CountingStore();
  const tables = new IcebergTables(store, new MemoryCatalog());
  const id = { namespace: 'ns', name: 't' };
  const base = await tables.create(id, SCHEMA, {}, partitioning === 'bucket' ? [{ sourceId: 1, transform: parseTransform('bucket[8]') }] : []);
  // Ids spread so that bounds alone prune nothing: every file spans 1..64.
  const rows = Array.from({ length: 64 }, (_, i) => [BigInt(i + 1), `v${i + 1}`]);
  const files = await writePartitionedFiles(store, base.metadata.location, SCHEMA, defaultSpec(base.metadata), SCHEMA.fields, rows, FileContent.Data);
  const prepared = await tables.prepare(base, { operation: 'append', addedDataFiles: files, addedDeleteFiles: [] });
  return { store, tables, table: { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata } };
}

const APPEND_SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'big', required: false, type: 'string' },
    { id: 3, name: '_cdc_lsn', required: true, type: 'long' },
    { id: 4, name: '_cdc_seq', required: true, type: 'long' },
  ],
};

/** An append table whose one commit holds two files, each with a change of key 5: the given order. */
async function appendTableWithTwoFiles(rowsOfFiles: ReadonlyArray<ReadonlyArray<unknown[]>>) {
  const store = new MemoryObjectStore();
  const tables = new IcebergTables(store, new MemoryCatalog());
  const id = { namespace: 'ns', name: 'a' };
  const base = await tables.create(id, APPEND_SCHEMA, {}, []);
  const files = [];
  for (const rows of rowsOfFiles) files.push(...(await writePartitionedFiles(store, base.metadata.location, APPEND_SCHEMA, defaultSpec(base.metadata), APPEND_SCHEMA.fields, [...rows], FileContent.Data)));
  const prepared = await tables.prepare(base, { operation: 'append', addedDataFiles: files, addedDeleteFiles: [] });
  return { tables, table: { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata } };
}

describe('currentRows (unchanged TOAST lookups)', () => {
  it.each([
    ['newer file listed first', 0],
    ['older file listed first', 1],
  ])("an append table's key with changes in two files of one commit: the newest change, by LSN, whichever file is listed first (%s)", async (_, order) => {
    const older = [[5n, 'old', 100n, 1n]];
    const newer = [[5n, 'new', 200n, 1n], [6n, 'six', 200n, 2n]];
    const { tables, table } = await appendTableWithTwoFiles(order === 0 ? [newer, older] : [older, newer]);
    const found = await currentRows(tables, table, APPEND_SCHEMA.fields, APPEND_SCHEMA.fields.slice(0, 1), wantedKeys(5n, 6n));
    expect(found.get(rowKey([5n], [0]))?.[1]).toBe('new');
    expect(found.get(rowKey([6n], [0]))?.[1]).toBe('six');
  });

  it("reads only the files of the partitions the wanted keys fall in, when the key determines the partition", async () => {
    const { store, tables, table } = await tableWith('bucket');
    expect(currentSnapshot(table.metadata)).toBeDefined();
    const found = await currentRows(tables, table, SCHEMA.fields, SCHEMA.fields.slice(0, 1), wantedKeys(5n, 40n));
    expect([...found.values()].map((row) => row[1]).sort()).toEqual(['v40', 'v5']);
    // Eight bucket files (64 ids over 8 buckets); the two keys fall in at most two.
    expect(store.read.length).toBeLessThanOrEqual(2);
    expect(store.read.length).toBeGreaterThan(0);
  });

  it('reads every file when the table is unpartitioned', async () => {
    const { store, tables, table } = await tableWith('none');
    const found = await currentRows(tables, table, SCHEMA.fields, SCHEMA.fields.slice(0, 1), wantedKeys(5n));
    expect([...found.values()].map((row) => row[1])).toEqual(['v5']);
    expect(store.read).toHaveLength(1);
  });
});
