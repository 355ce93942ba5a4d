import { currentSnapshot, FileContent, IcebergTables, LoadedTable, MemoryCatalog, MemoryObjectStore, TableChange, writeDataFile, writeDeletionVectors, writePositionDeleteFile } from '@philotes/iceberg';
import { keyName, rowIndexKey } from './key-index';
import { MemoryKeyIndex } from './memory-key-index';
import { compareKeyIndex, KeyPlacement, liveKeyPlacements, rebuildKeyIndex } from './rebuild';

/** Rebuilding the key index from a table's own files, every kind of delete applied, and comparing an index with them. */

const schema = { type: 'struct' as const, 'schema-id': 0, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', required: true, type: 'int' as const }, { id: 2, name: 'v', required: false, type: 'string' as const }] };
const id = { namespace: 'public', name: 't' };
const enlisting = () => {
  const changes: Array<{ commit(): void }> = [];
  return { unit: { db: { query: () => Promise.reject(new Error('no database')) } as never, enlist: (c: { commit(): void }) => void changes.push(c) }, commit: () => changes.forEach((c) => c.commit()) };
};

async function collect(placements: AsyncIterable<KeyPlacement>): Promise<Array<[number, string, number]>> {
  const out: Array<[number, string, number]> = [];
  for await (const p of placements) out.push([Number(p.key[0]), p.path, p.position]);
  return out;
}

describe('key index rebuild', () => {
  it.each([2, 3] as const)('places every live key of a v%i table at its file and position, with equality deletes and position deletes (v2) or deletion vectors (v3) applied', async (version) => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    let table: LoadedTable = await tables.create(id, schema, {}, [], version);
    const commit = async (change: Partial<TableChange>) => {
      const prepared = await tables.prepare(table, { operation: 'overwrite', addedDataFiles: [], addedDeleteFiles: [], ...change });
      expect(await tables.publish(table, prepared)).toBe(true);
      table = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    };
    const data = (ids: number[]) => writeDataFile(tables.store, table.metadata.location, schema, schema.fields, ids.map((i) => [i, `v${i}`]));
    const a = await data([1, 2, 3, 4]);
    const b = await data([5, 6]);
    await commit({ addedDataFiles: [a, b] });
    // Key 2 updated by equality delete (a new row in c); keys 3 and 6 deleted by position.
    const c = await data([2, 7]);
    const eq = await writeDataFile(tables.store, table.metadata.location, schema, [schema.fields[0]], [[2]], FileContent.EqualityDeletes, [1]);
    const byPosition =
      version === 3
        ? await writeDeletionVectors(tables.store, table.metadata.location, [
            { dataFile: a, positions: [2] },
            { dataFile: b, positions: [1] },
          ])
        : [await writePositionDeleteFile(tables.store, table.metadata.location, schema, [{ filePath: a.filePath, position: 2 }, { filePath: b.filePath, position: 1 }])];
    await commit({ addedDataFiles: [c], addedDeleteFiles: [eq, ...byPosition] });

    const snapshot = currentSnapshot(table.metadata)!['snapshot-id'];
    const keyOf = (k: number) => rowIndexKey([k], [0]);
    const placements: KeyPlacement[] = [];
    for await (const p of liveKeyPlacements(tables, table.metadata, snapshot, [schema.fields[0]])) placements.push(p);
    const named = placements.map((p) => [keyName(p.key), p.path, p.position]).sort();
    const expected = [
      [1, a.filePath, 0],
      [4, a.filePath, 3],
      [5, b.filePath, 0],
      [2, c.filePath, 0],
      [7, c.filePath, 1],
    ].map(([k, path, position]) => [keyName(keyOf(k as number)), path, position]);
    expect(named).toEqual(expected.sort());

    // An index built from them agrees; one missing, one misplaced and one extra key are each found.
    const index = new MemoryKeyIndex();
    const unit = enlisting();
    await index.apply(9, { placed: placements }, unit.unit);
    unit.commit();
    const again = () => liveKeyPlacements(tables, table.metadata, snapshot, [schema.fields[0]]);
    expect(await compareKeyIndex(index, 9, again(), 2)).toEqual({ missing: 0, misplaced: 0, extra: 0 });
    const broken = enlisting();
    await index.apply(9, { removed: [keyOf(1)], placed: [{ key: keyOf(4), path: a.filePath, position: 0 }, { key: keyOf(99), path: c.filePath, position: 5 }] }, broken.unit);
    broken.commit();
    expect(await compareKeyIndex(index, 9, again(), 2)).toEqual({ missing: 1, misplaced: 1, extra: 1 });
    expect((await collect(again())).length).toBe(5);
  });

  it('reports a key two live rows hold (a table written without deletes by another engine)', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const table = await tables.create(id, schema, {});
    const file = await writeDataFile(tables.store, table.metadata.location, schema, schema.fields, [[1, 'a'], [1, 'b']]);
    const prepared = await tables.prepare(table, { operation: 'append', addedDataFiles: [file], addedDeleteFiles: [] });
    const duplicates: string[] = [];
    for await (const p of liveKeyPlacements(tables, prepared.metadata, currentSnapshot(prepared.metadata)!['snapshot-id'], [schema.fields[0]], (key) => duplicates.push(keyName(key)))) void p;
    expect(duplicates).toEqual([keyName(rowIndexKey([1], [0]))]);
  });

  it('rebuilds a key two files hold once, so the keys placed exceed the index by the keys held twice', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const table = await tables.create(id, schema, {});
    const files = [await writeDataFile(tables.store, table.metadata.location, schema, schema.fields, [[1, 'a'], [2, 'b']]), await writeDataFile(tables.store, table.metadata.location, schema, schema.fields, [[1, 'c']])];
    const prepared = await tables.prepare(table, { operation: 'append', addedDataFiles: files, addedDeleteFiles: [] });
    const index = new MemoryKeyIndex();
    const unit = enlisting();
    const rebuilt = await rebuildKeyIndex(index, tables, prepared.metadata, [schema.fields[0]], 9, unit.unit, 1);
    unit.commit();
    expect(rebuilt).toEqual({ keys: 3, duplicates: 0 });
    expect(await index.size(9)).toBe(2);
    expect(await index.snapshot(9)).toBe(String(currentSnapshot(prepared.metadata)!['snapshot-id']));
  });
});
