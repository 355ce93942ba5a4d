import { seededRandom } from '@philotes/faults';
import { readAvroContainer } from './avro/container';
import { MemoryCatalog } from './catalog/memory-catalog';
import { IcebergTables, LoadedTable, TableChange } from './iceberg-tables';
import { DataFile, EntryStatus, FileContent, ManifestFile, readManifestList } from './manifest';
import { manifestsToMerge, ManifestMergePolicy } from './manifest-carry';
import { currentSnapshot } from './metadata';
import { IcebergSchema } from './schema';
import { reachableFiles } from './snapshot-expiry';
import { MemoryObjectStore } from './storage/memory-store';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? Date.now() % 1_000_000);
const SCHEMA: IcebergSchema = { type: 'struct', 'schema-id': 0, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', required: true, type: 'long' }] };
const MERGE_AT = 4;

function file(path: string, content: FileContent): DataFile {
  return {
    content,
    filePath: path,
    recordCount: 1,
    fileSizeInBytes: 100,
    valueCounts: new Map(),
    nullValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
    ...(content === FileContent.EqualityDeletes ? { equalityIds: [1] } : {}),
  };
}

/** Commits and what a reader must see: every live file with the sequence number of the commit that added it. */
async function randomHistory(seed: number) {
  const random = seededRandom(seed);
  const store = new MemoryObjectStore();
  const tables = new IcebergTables(store, new MemoryCatalog());
  let table: LoadedTable = await tables.create({ namespace: 'n', name: 't' }, SCHEMA, { 'commit.manifest.min-count-to-merge': String(MERGE_AT) });
  const expected = new Map<string, number>();
  const everLive = new Set<string>();
  let files = 0;
  const commit = async (change: TableChange) => {
    const prepared = await tables.prepare(table, change);
    expect(await tables.publish(table, prepared)).toBe(true);
    table = { id: table.id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    const sequence = prepared.metadata['last-sequence-number'];
    for (const f of [...change.addedDataFiles, ...change.addedDeleteFiles]) {
      expected.set(f.filePath, sequence);
      everLive.add(f.filePath);
    }
    for (const path of change.removedFiles ?? []) expected.delete(path);
  };
  const steps = 30 + Math.floor(random() * 40);
  for (let step = 0; step < steps; step++) {
    const kind = random();
    if (kind < 0.15 && expected.size > 0) {
      // A compaction-like commit: some files go, a merged one comes.
      const removed = new Set([...expected.keys()].filter(() => random() < 0.5));
      await commit({ operation: 'replace', addedDataFiles: [file(`c${files++}`, FileContent.Data)], addedDeleteFiles: [], removedFiles: removed });
    } else {
      const deletes = kind < 0.6 ? [file(`d${files++}`, FileContent.EqualityDeletes)] : [];
      await commit({ operation: deletes.length ? 'overwrite' : 'append', addedDataFiles: [file(`a${files++}`, FileContent.Data)], addedDeleteFiles: deletes });
    }
    const snapshot = currentSnapshot(table.metadata)!;
    const listed = readManifestList(await store.get(snapshot['manifest-list']));
    // Bounded: at most the merge count plus this commit's own manifests, per content.
    for (const content of [0, 1]) expect([seed, step, listed.filter((m) => m.content === content).length <= MERGE_AT + 2]).toEqual([seed, step, true]);
    // No manifest of only DELETED entries from an earlier snapshot.
    const spent = listed.filter((m) => m.addedFilesCount === 0 && m.existingFilesCount === 0 && m.addedSnapshotId !== snapshot['snapshot-id']);
    expect([seed, step, spent.map((m) => m.path)]).toEqual([seed, step, []]);
    // Every live file, once, with its sequence number.
    const live = await tables.liveFiles(table.metadata);
    const seen = [...live.data, ...live.deletes].map((e) => [e.dataFile.filePath, e.sequenceNumber] as const).sort();
    expect([seed, step, seen]).toEqual([seed, step, [...expected].sort()]);
  }
  return { store, table, everLive };
}

describe(`manifest carry and merge (seed ${SEED})`, () => {
  it('drops spent manifests and merges small ones, keeping every live file with its sequence number', async () => {
    for (let round = 0; round < 4; round++) await randomHistory(SEED + round);
  });

  it('keeps every file of every retained snapshot reachable for expiry and orphan clean-up', async () => {
    const { store, table, everLive } = await randomHistory(SEED + 100);
    const reachable = await reachableFiles(store, table.metadataLocation, table.metadata);
    // Nothing expired: every file ever committed is live in some snapshot.
    for (const path of everLive) expect([path, reachable.has(path)]).toEqual([path, true]);
  });

  it('merges only past the count, only manifests under the target size, never this commit’s own', () => {
    const policy: ManifestMergePolicy = { enabled: true, minCountToMerge: 3, targetBytes: 1000 };
    const manifest = (path: string, length: number, content: 0 | 1 = 0, partitionSpecId = 0): ManifestFile => ({
      path,
      length,
      content,
      partitionSpecId,
      sequenceNumber: 1,
      minSequenceNumber: 1,
      addedSnapshotId: 1,
      addedFilesCount: 1,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: 1,
      existingRowsCount: 0,
      deletedRowsCount: 0,
    });
    const fresh = [manifest('new', 10)];
    expect(manifestsToMerge([manifest('a', 10), manifest('b', 10)], fresh, policy)).toEqual([]);
    const bins = manifestsToMerge([manifest('a', 600), manifest('b', 300), manifest('c', 5000), manifest('d', 300), manifest('x', 10, 1)], fresh, policy);
    expect(bins.map((bin) => bin.map((m) => m.path))).toEqual([['b', 'd']]);
    expect(manifestsToMerge([manifest('a', 10), manifest('b', 10), manifest('c', 10)], fresh, { ...policy, enabled: false })).toEqual([]);
    // A manifest holds files of one partition spec: manifests of two specs never merge.
    const specs = manifestsToMerge([manifest('s0a', 10), manifest('s0b', 10), manifest('s1a', 10, 0, 1), manifest('s1b', 10, 0, 1), manifest('s1c', 10, 0, 1), manifest('s1d', 10, 0, 1)], fresh, policy);
    expect(specs.map((bin) => bin.map((m) => m.path))).toEqual([['s1a', 's1b', 's1c', 's1d']]);
  });

  it('writes merged entries as EXISTING with explicit sequence numbers', async () => {
    const { store, table } = await randomHistory(SEED + 200);
    const listed = (await Promise.all(table.metadata.snapshots.map(async (s) => readManifestList(await store.get(s['manifest-list']))))).flat();
    const merged = listed.filter((m) => m.path.includes('m-merged'));
    expect(merged.length).toBeGreaterThan(0);
    for (const m of merged) {
      const records = readAvroContainer(await store.get(m.path)).records as Array<{ status: number; sequence_number: number | null; snapshot_id: number | null; file_sequence_number: number | null }>;
      for (const r of records) {
        expect(r.status).toBe(EntryStatus.Existing);
        expect([r.sequence_number, r.snapshot_id, r.file_sequence_number].every((v) => v !== null)).toBe(true);
      }
    }
  });
});
