import { seededRandom } from '@philotes/faults';
import { MemoryCatalog } from './catalog/memory-catalog';
import { compact, planCompaction, storeKeyReader } from './compaction';
import { writeDataFile } from './data-files';
import { equalityKey } from './equality-deletes';
import { assignFirstRowIds, EntryStatus, FileContent, ManifestEntry, ManifestFile, readManifest, readManifestList, writeManifest } from './manifest';
import { currentSnapshot, FormatVersion, TableMetadata } from './metadata';
import { readRows } from './parquet/read-rows';
import { IcebergTables, LoadedTable, TableChange } from './iceberg-tables';
import { lineageOf, LINEAGE_FIELDS } from './row-lineage';
import { UNPARTITIONED } from './partitioning/partition-spec';
import { MemoryObjectStore } from './storage/memory-store';

/**
 * Row lineage in v3 tables (spec, Row Lineage) over a memory catalog and warehouse: real Parquet,
 * manifests and metadata, through the same prepare/publish path the writer commits by.
 */

const schema = { type: 'struct' as const, 'schema-id': 0, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', required: true, type: 'int' as const }, { id: 2, name: 'v', required: false, type: 'string' as const }] };
const id = { namespace: 'public', name: 't' };

const listed = (m: Partial<ManifestFile>): ManifestFile => ({
  path: 'm',
  length: 1,
  content: 0,
  sequenceNumber: 1,
  minSequenceNumber: 1,
  addedSnapshotId: 1,
  addedFilesCount: 0,
  existingFilesCount: 0,
  deletedFilesCount: 0,
  addedRowsCount: 0,
  existingRowsCount: 0,
  deletedRowsCount: 0,
  partitionSpecId: 0,
  ...m,
});

interface Lineage {
  readonly rowId: bigint | null;
  readonly sequence: bigint | null;
}

/** Every live row of the current snapshot with its lineage (explicit, else inherited), equality deletes applied. */
async function liveRows(tables: IcebergTables, metadata: TableMetadata): Promise<Array<{ id: number; v: unknown } & Lineage>> {
  const live = await tables.liveFiles(metadata);
  const deletes: Array<{ keys: Set<string>; sequence: number }> = [];
  for (const entry of live.deletes) deletes.push({ keys: new Set(readRows(await tables.store.get(entry.dataFile.filePath), [schema.fields[0]]).map((r) => equalityKey(r, [0]))), sequence: entry.sequenceNumber! });
  const rows: Array<{ id: number; v: unknown } & Lineage> = [];
  for (const entry of live.data) {
    const read = readRows(await tables.store.get(entry.dataFile.filePath), [...schema.fields, ...LINEAGE_FIELDS]);
    read.forEach((row, position) => {
      if (deletes.some((d) => d.sequence > entry.sequenceNumber! && d.keys.has(equalityKey(row, [0])))) return;
      const [rowId, sequence] = lineageOf(entry, position, row[2], row[3]);
      rows.push({ id: row[0] as number, v: row[1], rowId, sequence });
    });
  }
  return rows;
}

describe('row lineage', () => {
  it("assigns manifests' first row ids as the spec's example does", () => {
    // Spec, Row Lineage example: next-row-id 1000; an existing manifest keeps its id.
    const { manifests, assigned } = assignFirstRowIds(
      [
        listed({ path: 'existing', addedRowsCount: 75, firstRowId: 925 }),
        listed({ path: 'added1', addedRowsCount: 100, existingRowsCount: 25 }),
        listed({ path: 'added2', existingRowsCount: 100 }),
        listed({ path: 'deletes', content: 1, addedRowsCount: 40 }),
        listed({ path: 'added3', addedRowsCount: 125, existingRowsCount: 25 }),
      ],
      1000,
    );
    expect(manifests.map((m) => [m.path, m.firstRowId])).toEqual([
      ['existing', 925],
      ['added1', 1000],
      ['added2', 1125],
      ['deletes', undefined],
      ['added3', 1225],
    ]);
    expect(assigned).toBe(375);
    // DELETED files only: nothing live to number. Mixed with live ones: their rows are covered too.
    expect(assignFirstRowIds([listed({ deletedRowsCount: 9 })], 0).assigned).toBe(0);
    expect(assignFirstRowIds([listed({ existingRowsCount: 3, deletedRowsCount: 9 })], 0).assigned).toBe(12);
  });

  it('keeps each row its id and last-updated sequence number through commits, merges, compactions and an upgrade, and gives a changed row a new id (generated)', async () => {
    const seeds = process.env.PHILOTES_LINEAGE_SEED ? [Number(process.env.PHILOTES_LINEAGE_SEED)] : Array.from({ length: 24 }, (_, i) => 7001 + i);
    for (const seed of seeds) {
      const random = seededRandom(seed);
      const label = `seed ${seed} (PHILOTES_LINEAGE_SEED=${seed} replays it)`;
      const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
      const startVersion: FormatVersion = random() < 0.5 ? 2 : 3;
      // Merging after a few manifests, so merged manifests (EXISTING entries) are read back too.
      let table: LoadedTable = await tables.create(id, schema, { 'commit.manifest.min-count-to-merge': String(2 + Math.floor(random() * 4)) }, [], startVersion);
      const model = new Map<number, string>();
      /** Each key's lineage as last seen, once the table tracks lineage. */
      let seen = new Map<number, Lineage>();
      const everAssigned = new Set<bigint>();
      const commit = async (change: Partial<TableChange>) => {
        const prepared = await tables.prepare(table, { operation: 'append', addedDataFiles: [], addedDeleteFiles: [], ...change });
        expect(await tables.publish(table, prepared)).toBe(true);
        const before = table.metadata;
        table = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
        return before;
      };
      const data = (rows: unknown[][]) => writeDataFile(tables.store, table.metadata.location, schema, schema.fields, rows);
      const deletesOf = (keys: number[]) => writeDataFile(tables.store, table.metadata.location, schema, [schema.fields[0]], keys.map((k) => [k]), FileContent.EqualityDeletes, [1]);
      const keys = () => [...model.keys()];

      const steps = 8 + Math.floor(random() * 10);
      // Upgraded late, mostly: after merges and rewrites made manifests of EXISTING entries without ids.
      const upgradeAt = startVersion === 2 ? Math.floor((random() < 0.8 ? steps / 2 : 0) + (random() * steps) / 2) : -1;
      for (let step = 0; step < steps; step++) {
        const changed = new Set<number>();
        const choice = random();
        let change: Partial<TableChange>;
        if (choice < 0.45 || model.size === 0) {
          // An upsert: new keys and some existing ones, with a delete of each key written.
          const rows: Array<[number, string]> = [];
          const count = Math.floor(random() * 6); // 0 rows too: an empty file of the commit
          for (let i = 0; i < count; i++) rows.push([random() < 0.4 && model.size > 0 ? keys()[Math.floor(random() * model.size)] : Math.floor(random() * 1000), `s${step}-${i}`]);
          const unique = [...new Map(rows.map((r) => [r[0], r])).values()];
          for (const [k, v] of unique) {
            model.set(k, v);
            changed.add(k);
          }
          change = { operation: 'overwrite', addedDataFiles: unique.length > 0 ? [await data(unique)] : [], addedDeleteFiles: unique.length > 0 ? [await deletesOf(unique.map((r) => r[0]))] : [] };
        } else if (choice < 0.6) {
          const gone = keys().filter(() => random() < 0.3);
          for (const k of gone) model.delete(k);
          change = { operation: 'delete', addedDataFiles: [], addedDeleteFiles: gone.length > 0 ? [await deletesOf(gone)] : [] };
        } else if (choice < 0.68) {
          // TRUNCATE, then a few rows.
          model.clear();
          seen = new Map();
          const rows: Array<[number, string]> = [[1, `t${step}`], [2, `t${step}`]];
          for (const [k, v] of rows) {
            model.set(k, v);
            changed.add(k);
          }
          change = { operation: 'overwrite', removeAllFiles: true, addedDataFiles: [await data(rows)], addedDeleteFiles: [] };
        } else {
          const plan = await planCompaction(await tables.liveFiles(table.metadata), schema.fields, { targetFileSize: 1024 * 1024, minFiles: 2, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store));
          change = plan ? await compact(tables.store, table, plan, 1024 * 1024) : { operation: 'append', addedDataFiles: [], addedDeleteFiles: [] };
        }
        if (step === upgradeAt) change = { ...change, formatVersion: 3 };
        const before = await commit(change);
        const after = table.metadata;
        const snapshot = currentSnapshot(after)!;
        const rows = await liveRows(tables, after);
        expect([label, step, rows.map((r) => [r.id, r.v]).sort((a, b) => (a[0] as number) - (b[0] as number))]).toEqual([label, step, [...model].sort((a, b) => a[0] - b[0])]);
        if (after['format-version'] < 3) {
          expect([label, after['next-row-id'], snapshot['first-row-id']]).toEqual([label, undefined, undefined]);
          continue;
        }
        // The snapshot's row ids start at the table's next-row-id before it, which moves past them.
        expect([label, step, snapshot['first-row-id'], after['next-row-id']]).toEqual([label, step, before['next-row-id'] ?? 0, (before['next-row-id'] ?? 0) + snapshot['added-rows']!]);
        const list = readManifestList(await tables.store.get(snapshot['manifest-list']));
        expect([label, list.every((m) => (m.content === 0) === (m.firstRowId !== undefined))]).toEqual([label, true]);
        // Every live row has an id of its own, below next-row-id.
        const ids = rows.map((r) => r.rowId);
        expect([label, step, ids.every((i) => i !== null && i < BigInt(after['next-row-id']!))]).toEqual([label, step, true]);
        expect([label, step, new Set(ids).size]).toEqual([label, step, ids.length]);
        const next = new Map<number, Lineage>();
        for (const row of rows) {
          const lineage = { rowId: row.rowId, sequence: row.sequence };
          if (changed.has(row.id)) {
            // A changed row is a new row (equality deletes carry no ids): an id never given before, this commit's number.
            expect([label, step, row.id, everAssigned.has(row.rowId!), row.sequence]).toEqual([label, step, row.id, false, BigInt(snapshot['sequence-number'])]);
          } else if (seen.has(row.id)) {
            expect([label, step, row.id, lineage]).toEqual([label, step, row.id, seen.get(row.id)]);
          }
          everAssigned.add(row.rowId!);
          next.set(row.id, lineage);
        }
        seen = next;
      }
    }
  });

  it('reads inherited first row ids as Java does: DELETED entries take none and advance nothing; a file without one gives null lineage', () => {
    const file = (path: string, recordCount: number, firstRowId?: number): ManifestEntry['dataFile'] => ({
      content: FileContent.Data,
      filePath: path,
      recordCount,
      fileSizeInBytes: 10,
      valueCounts: new Map(),
      nullValueCounts: new Map(),
      lowerBounds: new Map(),
      upperBounds: new Map(),
      ...(firstRowId === undefined ? {} : { firstRowId }),
    });
    const entries: ManifestEntry[] = [
      { status: EntryStatus.Deleted, snapshotId: 1, sequenceNumber: 1, fileSequenceNumber: 1, dataFile: file('a', 10) },
      { status: EntryStatus.Existing, snapshotId: 1, sequenceNumber: 1, fileSequenceNumber: 1, dataFile: file('b', 5) },
      { status: EntryStatus.Existing, snapshotId: 1, sequenceNumber: 1, fileSequenceNumber: 1, dataFile: file('c', 7, 500) },
      { status: EntryStatus.Added, dataFile: file('d', 3) },
    ];
    const bytes = writeManifest(entries, schema, 'data', UNPARTITIONED, 3);
    const read = readManifest(bytes, listed({ existingRowsCount: 12, addedRowsCount: 3, deletedRowsCount: 10, firstRowId: 100 }));
    expect(read.map((e) => [e.dataFile.filePath, e.dataFile.firstRowId])).toEqual([
      ['a', undefined],
      ['b', 100],
      ['c', 500],
      ['d', 105],
    ]);
    // Before an upgrade's first snapshot: no ids, so no lineage at all (spec, Appendix E).
    const unassigned = readManifest(bytes, listed({ existingRowsCount: 12, addedRowsCount: 3 }));
    expect(lineageOf(unassigned[1], 2, null, null)).toEqual([null, null]);
    expect(lineageOf(read[1], 2, null, null)).toEqual([102n, 1n]);
    expect(lineageOf(read[1], 2, 7n, 4n)).toEqual([7n, 4n]);
  });

  it("keeps another engine's deletion-vector fields through a manifest rewrite", () => {
    const dv: ManifestEntry = {
      status: EntryStatus.Existing,
      snapshotId: 9,
      sequenceNumber: 3,
      fileSequenceNumber: 3,
      dataFile: {
        content: FileContent.PositionDeletes,
        filePath: 'mem://t/data/dv.puffin',
        recordCount: 2,
        fileSizeInBytes: 100,
        valueCounts: new Map(),
        nullValueCounts: new Map(),
        lowerBounds: new Map(),
        upperBounds: new Map(),
        reference: { fileFormat: 'puffin', referencedDataFile: 'mem://t/data/a.parquet', contentOffset: 4, contentSizeInBytes: 44, keyMetadata: Uint8Array.of(1, 2) },
      },
    };
    const once = readManifest(writeManifest([dv], schema, 'deletes', UNPARTITIONED, 3), listed({ content: 1, existingFilesCount: 1, existingRowsCount: 2 }));
    const twice = readManifest(writeManifest(once, schema, 'deletes', UNPARTITIONED, 3), listed({ content: 1, existingFilesCount: 1, existingRowsCount: 2 }));
    expect(twice[0].dataFile.reference).toEqual(dv.dataFile.reference);
  });

  it('leaves a v3 table at v3 when asked for 2, and upgrades a v2 table in the commit that asks', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const v3 = await tables.create(id, schema, {}, [], 3);
    const prepared = await tables.prepare(v3, { operation: 'append', addedDataFiles: [], addedDeleteFiles: [], formatVersion: 2 });
    expect(prepared.metadata['format-version']).toBe(3);
    const v2 = await tables.create({ namespace: 'public', name: 'u' }, schema, {});
    expect(v2.metadata['format-version']).toBe(2);
    expect(v2.metadata['next-row-id']).toBeUndefined();
    const file = await writeDataFile(tables.store, v2.metadata.location, schema, schema.fields, [[1, 'a'], [2, 'b']]);
    const upgraded = await tables.prepare(v2, { operation: 'append', addedDataFiles: [file], addedDeleteFiles: [], formatVersion: 3 });
    expect(upgraded.metadata['format-version']).toBe(3);
    expect(currentSnapshot(upgraded.metadata)).toMatchObject({ 'first-row-id': 0, 'added-rows': 2 });
    expect(upgraded.metadata['next-row-id']).toBe(2);
  });
});
