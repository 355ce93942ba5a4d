import { crc32 } from 'node:zlib';
import { RoaringBitmap32, roaringLibraryInitialize } from 'roaring-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCatalog } from '../catalog/memory-catalog';
import { writeDataFile } from '../data-files';
import { DataFile } from '../manifest';
import { currentSnapshot, FormatVersion } from '../metadata';
import { snapshotRows } from '../snapshot-rows';
import { IcebergTables, LoadedTable, TableChange } from '../iceberg-tables';
import { MemoryObjectStore } from '../storage/memory-store';
import { writeDeletionVectors, writePositionDeleteFile } from './position-deletes';

/**
 * Position delete files and deletion vectors, written and read back through snapshots: by
 * Philotes' reader, and the files themselves by DuckDB (position deletes) and by CRoaring
 * (roaring-wasm) over the Puffin bytes sliced by hand (deletion vectors).
 */

const schema = { type: 'struct' as const, 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'int' as const }, { id: 2, name: 'v', required: false, type: 'string' as const }] };
const id = { namespace: 'public', name: 't' };

async function table(version: FormatVersion) {
  const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
  let current: LoadedTable = await tables.create(id, schema, { 'commit.manifest.min-count-to-merge': '2' }, [], version);
  const commit = async (change: Partial<TableChange>) => {
    const prepared = await tables.prepare(current, { operation: 'overwrite', addedDataFiles: [], addedDeleteFiles: [], ...change });
    expect(await tables.publish(current, prepared)).toBe(true);
    current = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    return current;
  };
  const rows = async () => {
    const out: unknown[][] = [];
    for await (const row of snapshotRows(tables, current.metadata, currentSnapshot(current.metadata)!['snapshot-id'], schema.fields)) out.push(row);
    return out.map((r) => r[0] as number).sort((a, b) => a - b);
  };
  const data = (ids: number[]) => writeDataFile(tables.store, current.metadata.location, schema, schema.fields, ids.map((i) => [i, `v${i}`]));
  return { tables, commit, rows, data, current: () => current };
}

describe('position deletes and deletion vectors', () => {
  it('removes the rows a v2 position delete file names, sorted by path and position, readable by DuckDB', async () => {
    const t = await table(2);
    const a = await t.data([10, 11, 12, 13, 14]);
    const b = await t.data([20, 21]);
    await t.commit({ addedDataFiles: [a, b] });
    const deletes = await writePositionDeleteFile(t.tables.store, t.current().metadata.location, schema, [
      { filePath: b.filePath, position: 0 },
      { filePath: a.filePath, position: 3 },
      { filePath: a.filePath, position: 1 },
    ]);
    await t.commit({ operation: 'delete', addedDeleteFiles: [deletes] });
    expect(await t.rows()).toEqual([10, 12, 14, 21]);
    expect(currentSnapshot(t.current().metadata)!.summary).toMatchObject({ 'added-position-delete-files': '1', 'added-position-deletes': '3', 'total-position-deletes': '3', 'added-equality-delete-files': '0' });

    const dir = mkdtempSync(join(tmpdir(), 'posdel-'));
    writeFileSync(join(dir, 'd.parquet'), await t.tables.store.get(deletes.filePath));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const schemaRows = (await connection.runAndReadAll(`SELECT name, field_id::INT AS field_id FROM parquet_schema('${join(dir, 'd.parquet')}') WHERE field_id IS NOT NULL`)).getRowObjectsJson();
    const read = (await connection.runAndReadAll(`SELECT file_path, pos::INT AS pos FROM read_parquet('${join(dir, 'd.parquet')}')`)).getRowObjectsJson();
    connection.closeSync();
    instance.closeSync();
    expect(schemaRows).toEqual([
      { name: 'file_path', field_id: 2147483546 },
      { name: 'pos', field_id: 2147483545 },
    ]);
    const [first, second] = [a.filePath, b.filePath].sort();
    const expected = [first, second].flatMap((path) => (path === a.filePath ? [1, 3] : [0]).map((pos) => ({ file_path: path, pos })));
    expect(read).toEqual(expected);
  });

  it('removes the rows a v3 deletion vector names, its own commit included, and keeps its blob through manifest merges', async () => {
    const t = await table(3);
    const a = await t.data([1, 2, 3, 4]);
    const b = await t.data([5, 6, 7]);
    // The vector and its data file in one commit: a position delete applies at its own sequence number.
    const [dvA] = await writeDeletionVectors(t.tables.store, t.current().metadata.location, [{ dataFile: a, positions: [0, 2] }]);
    await t.commit({ addedDataFiles: [a, b], addedDeleteFiles: [dvA] });
    expect(await t.rows()).toEqual([2, 4, 5, 6, 7]);
    const [dvB] = await writeDeletionVectors(t.tables.store, t.current().metadata.location, [{ dataFile: b, positions: [1] }]);
    await t.commit({ operation: 'delete', addedDeleteFiles: [dvB] });
    // More commits: the delete manifests are merged, entries rewritten as EXISTING.
    for (const ids of [[8], [9]]) await t.commit({ operation: 'append', addedDataFiles: [await t.data(ids)] });
    expect(await t.rows()).toEqual([2, 4, 5, 7, 8, 9]);
    const live = await t.tables.liveFiles(t.current().metadata);
    expect(live.deletes.map((e) => e.dataFile.reference?.referencedDataFile).sort()).toEqual([a.filePath, b.filePath].sort());
    expect(currentSnapshot(t.current().metadata)!.summary['total-position-deletes']).toBe('3');
  });

  it('refuses deletion vectors in v2 tables and new position delete files in v3 ones, two vectors for one file, and positions past its rows', async () => {
    const v2 = await table(2);
    const a = await v2.data([1, 2]);
    await v2.commit({ addedDataFiles: [a] });
    const vectors = await writeDeletionVectors(v2.tables.store, v2.current().metadata.location, [{ dataFile: a, positions: [0] }]);
    await expect(v2.commit({ addedDeleteFiles: vectors })).rejects.toThrow(/cannot hold deletion vectors/);
    const v3 = await table(3);
    const b = await v3.data([1, 2]);
    await v3.commit({ addedDataFiles: [b] });
    const file = await writePositionDeleteFile(v3.tables.store, v3.current().metadata.location, schema, [{ filePath: b.filePath, position: 0 }]);
    await expect(v3.commit({ addedDeleteFiles: [file] })).rejects.toThrow(/not new position delete files/);
    await expect(writeDeletionVectors(v3.tables.store, 'mem://t', [{ dataFile: b, positions: [0] }, { dataFile: b, positions: [1] }])).rejects.toThrow(/two for one data file/);
    await expect(writeDeletionVectors(v3.tables.store, 'mem://t', [{ dataFile: b, positions: [2] }])).rejects.toThrow(/past its 2 rows/);
  });

  it("counts deletion vectors apart in the summary, each by its blob's size, and a newer vector supersedes the file's older deletes", async () => {
    const t = await table(3);
    const a = await t.data([1, 2, 3]);
    const [first] = await writeDeletionVectors(t.tables.store, t.current().metadata.location, [{ dataFile: a, positions: [0, 1] }]);
    await t.commit({ addedDataFiles: [a], addedDeleteFiles: [first] });
    const summary = currentSnapshot(t.current().metadata)!.summary;
    expect(summary).toMatchObject({ 'added-dvs': '1', 'added-position-delete-files': '0', 'added-position-deletes': '2', 'added-delete-files': '1' });
    expect(Number(summary['added-files-size'])).toBe(a.fileSizeInBytes + first.reference!.contentSizeInBytes!);
    expect(first.reference!.contentSizeInBytes!).toBeLessThan(first.fileSizeInBytes);
    // Replaced by a vector holding position 1 only (not the usual merge, to see which one is read).
    const [second] = await writeDeletionVectors(t.tables.store, t.current().metadata.location, [{ dataFile: a, positions: [1] }]);
    await t.commit({ operation: 'delete', addedDeleteFiles: [second] });
    expect(await t.rows()).toEqual([1, 3]);
    await t.commit({ operation: 'delete', removedEntries: [{ filePath: first.filePath, referencedDataFile: a.filePath }] });
    expect(currentSnapshot(t.current().metadata)!.summary).toMatchObject({ 'removed-dvs': '1', 'removed-position-deletes': '2', 'total-position-deletes': '1' });
    expect(await t.rows()).toEqual([1, 3]);
  });

  it('writes Puffin files that CRoaring reads: footer offsets, big-endian length and CRC-32, portable bitmaps', async () => {
    await roaringLibraryInitialize();
    const t = await table(3);
    // Row counts as a file of that many rows would have: the positions reach past 2^32.
    const files: DataFile[] = [{ ...(await t.data([1])), recordCount: 2 ** 33 }, await t.data([2, 3, 4, 5, 6, 7, 8, 9])];
    const positions = [[0, 1, 2, 3, 100_000, 4_000_000_000], [7]];
    const entries = await writeDeletionVectors(t.tables.store, t.current().metadata.location, files.map((dataFile, i) => ({ dataFile, positions: positions[i] })));
    expect(new Set(entries.map((e) => e.filePath)).size).toBe(1);
    const bytes = Buffer.from(await t.tables.store.get(entries[0].filePath));
    // The footer, read by hand: payload size and flags sit before the closing magic.
    const size = bytes.readInt32LE(bytes.length - 12);
    const footer = JSON.parse(bytes.subarray(bytes.length - 12 - size, bytes.length - 12).toString('utf8')) as { blobs: Array<{ offset: number; length: number; properties: Record<string, string> }> };
    entries.forEach((entry, i) => {
      const blob = footer.blobs[i];
      expect([entry.reference?.contentOffset, entry.reference?.contentSizeInBytes, entry.recordCount]).toEqual([blob.offset, blob.length, positions[i].length]);
      expect(blob.properties).toEqual({ 'referenced-data-file': files[i].filePath, cardinality: String(positions[i].length) });
      const body = bytes.subarray(blob.offset, blob.offset + blob.length);
      const length = body.readUInt32BE(0);
      expect(length).toBe(body.length - 8);
      expect(body.subarray(4, 8)).toEqual(Buffer.from([0xd1, 0xd3, 0x39, 0x64]));
      expect(body.readUInt32BE(4 + length)).toBe(crc32(body.subarray(4, 4 + length)) >>> 0);
      // Portable 64-bit: a count, then per high word its key and a 32-bit bitmap CRoaring reads.
      const vector = body.subarray(8, 4 + length);
      const count = Number(vector.readBigUInt64LE(0));
      let at = 8;
      const read: number[] = [];
      for (let k = 0; k < count; k++) {
        const key = vector.readUInt32LE(at);
        at += 4;
        const bitmap = RoaringBitmap32.deserialize(vector.subarray(at), 'portable');
        read.push(...Array.from(bitmap.toArray(), (low) => key * 2 ** 32 + low));
        at += bitmap.getSerializationSizeInBytes('portable');
        bitmap.dispose();
      }
      expect(at).toBe(vector.length);
      expect(read).toEqual(positions[i]);
    });
  });
});
