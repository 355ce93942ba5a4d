import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@philotes/faults';
import {
  currentSnapshot,
  DataFile,
  FileSystemObjectStore,
  FormatVersion,
  IcebergSchema,
  IcebergTables,
  LoadedTable,
  MemoryCatalog,
  snapshotRows,
  TableChange,
  writeDataFile,
  writeDeletionVectors,
  writePositionDeleteFile,
} from '@philotes/iceberg';
import { duckdbRows } from '../support/generative/duckdb-table';
import { icebergCanonical } from '../support/generative/values';
import { readTableWithIcebird } from '../support/iceberg';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'v', required: false, type: 'string' },
  ],
};

/**
 * Position deletes (v2) and deletion vectors (v3) written by the lib into real files, read back
 * three ways: by Philotes' snapshot reader; by DuckDB over the files icebird's manifests list,
 * position delete files read by DuckDB and each vector's blob decoded by CRoaring; and, for v2,
 * by icebird's own reader (which applies position deletes, not vectors). Seeded commits of
 * inserts and deletes by position, replayable with PHILOTES_POSITION_DELETES_SEED.
 */
describe('position deletes and deletion vectors, read by independent readers', () => {
  const first = Number(process.env.PHILOTES_POSITION_DELETES_SEED ?? 880);
  const seeds = process.env.PHILOTES_POSITION_DELETES_SEED ? [first] : [first, first + 1, first + 2, first + 3];

  it.each(seeds)('seed %i: every reader sees the rows not deleted', async (seed) => {
    const random = seededRandom(seed);
    const version: FormatVersion = seed % 2 === 0 ? 2 : 3;
    const warehouse = mkdtempSync(join(tmpdir(), 'philotes-posdel-'));
    const tables = new IcebergTables(new FileSystemObjectStore(warehouse), new MemoryCatalog());
    const id = { namespace: 'p', name: `t${seed}` };
    let table: LoadedTable = await tables.create(id, SCHEMA, { 'commit.manifest.min-count-to-merge': '3' }, [], version);
    const commit = async (change: Partial<TableChange>) => {
      const prepared = await tables.prepare(table, { operation: 'overwrite', addedDataFiles: [], addedDeleteFiles: [], ...change });
      expect(await tables.publish(table, prepared)).toBe(true);
      table = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    };
    /** Live rows: data file → its rows' ids by position, and which positions are deleted. */
    const files: Array<{ file: DataFile; ids: number[]; deleted: Set<number> }> = [];
    let nextId = 1;
    const steps = 4 + Math.floor(random() * 5);
    for (let step = 0; step < steps; step++) {
      const added: DataFile[] = [];
      // 0- and 1-row files too.
      for (let f = 0, count = Math.floor(random() * 3); f < count; f++) {
        const ids = Array.from({ length: Math.floor(random() * random() * 40) }, () => nextId++);
        if (ids.length === 0) continue;
        const file = await writeDataFile(tables.store, table.metadata.location, SCHEMA, SCHEMA.fields, ids.map((i) => [BigInt(i), `v${i}`]));
        added.push(file);
        files.push({ file, ids, deleted: new Set() });
      }
      // Deletes by position in any live file, the ones just added included (same commit).
      const hits = files.filter(() => random() < 0.5);
      const fresh = new Map<(typeof files)[number], number[]>();
      for (const target of hits) {
        const positions = target.ids.map((_, p) => p).filter((p) => !target.deleted.has(p) && random() < 0.3);
        if (positions.length > 0) fresh.set(target, positions);
      }
      let deletes: DataFile[] = [];
      if (version === 2 && fresh.size > 0) {
        deletes = [await writePositionDeleteFile(tables.store, table.metadata.location, SCHEMA, [...fresh].flatMap(([t, ps]) => ps.map((position) => ({ filePath: t.file.filePath, position }))))];
      } else if (version === 3 && fresh.size > 0) {
        // One live vector per data file: a new one holds the file's earlier positions too, and
        // replaces the old. Every other seed puts all of a commit's vectors in one Puffin file.
        const vectors = [...fresh].map(([t, ps]) => ({ dataFile: t.file, positions: [...t.deleted, ...ps] }));
        deletes = seed % 4 === 1 ? await writeDeletionVectors(tables.store, table.metadata.location, vectors) : (await Promise.all(vectors.map((v) => writeDeletionVectors(tables.store, table.metadata.location, [v])))).flat();
      }
      // The vectors replaced, by their entries (a Puffin file may hold other files' vectors, which stay).
      const replaced = version === 3 ? (await tables.liveFiles(table.metadata)).deletes.filter((e) => [...fresh.keys()].some((t) => t.file.filePath === e.dataFile.reference?.referencedDataFile)) : [];
      await commit({
        addedDataFiles: added,
        addedDeleteFiles: deletes,
        ...(replaced.length > 0 ? { removedEntries: replaced.map((e) => ({ filePath: e.dataFile.filePath, referencedDataFile: e.dataFile.reference?.referencedDataFile })) } : {}),
      });
      for (const [t, ps] of fresh) for (const p of ps) t.deleted.add(p);
    }

    const expected = files.flatMap((f) => f.ids.filter((_, p) => !f.deleted.has(p))).sort((a, b) => a - b);
    const ours: number[] = [];
    const snapshot = currentSnapshot(table.metadata);
    if (snapshot) for await (const row of snapshotRows(tables, table.metadata, snapshot['snapshot-id'], SCHEMA.fields)) ours.push(Number(row[0]));
    expect([seed, ours.sort((a, b) => a - b)]).toEqual([seed, expected]);
    if (!snapshot || files.length === 0) return;
    const read = await readTableWithIcebird(table.metadata.location, table.metadataLocation);
    const duck = (await duckdbRows(table.metadataLocation, read.files, icebergCanonical)).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect([seed, duck]).toEqual([seed, expected]);
    if (version === 2) expect([seed, read.rows.map((r) => Number(r.id)).sort((a, b) => a - b)]).toEqual([seed, expected]);
    else {
      expect(read.rowsUnread).toBe('deletion vectors');
      // At most one live vector per data file (spec): a replaced one left with its commit.
      const vectors = read.files.filter((f) => f.content === 1).map((f) => f.referencedDataFile);
      expect([seed, vectors.length]).toEqual([seed, new Set(vectors).size]);
    }
  });
});
