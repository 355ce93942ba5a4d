import { orphanFiles } from './snapshot-expiry';
import { MemoryObjectStore } from './storage/memory-store';

describe('orphan files', () => {
  it('are the unreached files of the data folder, its partition folders and the metadata folder, and nothing else', async () => {
    const store = new MemoryObjectStore();
    const table = `${store.root}/ns/orders-0123`;
    const paths = {
      data: `${table}/data/a.parquet`,
      partition: `${table}/data/ts_month=2024-01/id_bucket=3/b.parquet`,
      metadata: `${table}/metadata/m.avro`,
      reached: `${table}/data/ts_month=2024-01/c.parquet`,
      // A table of an older release named orders-0123/data: its own files, never ours to remove.
      foreignData: `${table}/data/data/d.parquet`,
      foreignMetadata: `${table}/data/metadata/00001.metadata.json`,
      foreignUnderPartitionName: `${table}/data/x=1/data/e.parquet`,
      nestedMetadata: `${table}/metadata/sub/f.avro`,
      elsewhere: `${table}/other/g.parquet`,
    };
    for (const path of Object.values(paths)) await store.put(path, Uint8Array.of(1));
    const orphans = await orphanFiles(store, table, new Set([paths.reached]), Date.now() + 10_000, 1_000);
    expect(orphans.sort()).toEqual([paths.data, paths.partition, paths.metadata].sort());
    // Within the grace period, none.
    expect(await orphanFiles(store, table, new Set(), Date.now(), 60_000)).toEqual([]);
  });
});
