import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { eventuallyStatus, httpGet } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { duckdbRows } from '../support/generative/duckdb-table';
import { icebergCanonical } from '../support/generative/values';
import { duckdb, manifestsWithIcebird } from '../support/iceberg';
import { IcebergTableState, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

/**
 * Real: reader and writer processes, a local warehouse. Compaction rewrites what changed — the
 * files deletes hit and the small files — not the whole table, and a snapshot's manifest list stays
 * bounded however many commits came before. Every state is read back with icebird and with
 * DuckDB's Parquet reader over the manifest-listed files (equality deletes applied as the spec
 * says), and compared with the source.
 */
describe('iceberg-writer compaction scope and manifests', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter | undefined;
  let source: Client;

  beforeEach(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
  });

  afterEach(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source.end();
    await dbs.drop();
  });

  const table = async (): Promise<IcebergTableState> => (await readIcebergTable(dbs.buffer.url, 'public', 'hits'))!;

  /** The table, read by icebird and by DuckDB, equals the source. */
  async function expectMirrored(state: IcebergTableState): Promise<void> {
    const expected = (await query<{ id: string; v: string; note: string }>(dbs.source.url, 'SELECT id::text AS id, v::text AS v, note FROM hits ORDER BY id')).map(
      (r) => `${r.id}|${r.v}|${r.note}`,
    );
    const icebird = state.rows.map((r) => `${String(r.id)}|${String(r.v)}|${String(r.note)}`).sort();
    const duck = (await duckdbRows(state.metadataLocation, state.files, icebergCanonical)).map((r) => `${r.id}|${r.v}|${r.note}`).sort();
    const sorted = [...expected].sort();
    expect(icebird.length).toBe(sorted.length);
    expect(icebird.filter((row, i) => row !== sorted[i]).slice(0, 3)).toEqual([]);
    expect(duck.length).toBe(sorted.length);
    expect(duck.filter((row, i) => row !== sorted[i]).slice(0, 3)).toEqual([]);
  }

  it('rewrites only the files deletes hit (and small ones), leaving the others by path, and keeps the manifest list bounded', async () => {
    await source.query('CREATE TABLE hits (id int PRIMARY KEY, v int, note text)');
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    const warehouse = tempWarehouse();
    const settle = async () => {
      await waitCaughtUp(dbs);
      await waitWriterCaughtUp(dbs.buffer.url);
    };

    // Four base files of disjoint key ranges, one commit each: each insert is in the buffer whole
    // before a writer starts on it, so no commit takes part of one (a reader stores a large
    // transaction in several writes). Then updates within the first range only.
    for (let f = 0; f < 4; f++) {
      await source.query(`INSERT INTO hits SELECT g, g, 'base-' || g FROM generate_series(${f * 2000 + 1}, ${f * 2000 + 2000}) g`);
      await waitCaughtUp(dbs);
      writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
      await waitWriterCaughtUp(dbs.buffer.url);
      if (f < 3) await writer.process.stop();
    }
    const base = (await table()).files.filter((f) => f.content === 0);
    // Each file's key range, by DuckDB: the writer may split a commit's rows over several files.
    const lowest = async (uri: string) => Number((await duckdb<{ low: number }>(`SELECT min("id") AS low FROM read_parquet('${fileURLToPath(uri)}')`))[0].low);
    const ranges = await Promise.all(base.map(async (f) => ({ path: f.path, low: await lowest(f.path) })));
    const hit = ranges.filter((r) => r.low <= 2000).map((r) => r.path);
    const untouched = ranges.filter((r) => r.low > 2000).map((r) => r.path);
    expect(untouched.length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 6; i++) {
      await source.query(`UPDATE hits SET v = v + 1000, note = 'u${i}' WHERE id <= 2000 AND id % 13 = ${i}`);
      await settle();
    }
    const before = await table();
    expect(before.files.filter((f) => f.content === 1).length).toBeGreaterThanOrEqual(6);
    await expectMirrored(before);
    await writer!.process.stop();

    // Target size between an update's file and a base file: the update files count as small, the base files do not.
    const sizes = before.files.filter((f) => f.content === 0).map((f) => ({ path: f.path, bytes: statSync(fileURLToPath(f.path)).size }));
    const targetKb = Math.floor(Math.min(...sizes.filter((s) => base.some((b) => b.path === s.path)).map((s) => s.bytes)) / 1024);
    const target = targetKb * 1024;
    // The sizes in the failure message: which file broke the premise.
    expect([sizes.filter((s) => !base.some((b) => b.path === s.path)).every((s) => s.bytes < target * 0.75), target, sizes.map((s) => s.bytes)]).toEqual([true, target, sizes.map((s) => s.bytes)]);
    writer = await startWriter(dbs, warehouse, {
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s',
      PHILOTES_ICEBERG_COMPACTION_MIN_FILES: '2',
      PHILOTES_ICEBERG_TARGET_FILE_SIZE: `${targetKb}KB`,
      PHILOTES_ICEBERG_COMPACTION_MAX_BYTES: '16MB',
    });
    const after = await eventually(
      'the hit file and the update files compacted',
      async () => {
        const state = await table();
        return state.files.every((f) => f.content === 0) && !state.files.some((f) => hit.includes(f.path)) ? state : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // The base files no delete touched are the same files, by path; the hit one and the small ones are gone.
    const paths = after.files.map((f) => f.path);
    for (const path of untouched) expect(paths).toContain(path);
    expect(after.files.length).toBeLessThan(before.files.filter((f) => f.content === 0).length);
    await expectMirrored(after);
    const metrics = (await httpGet(`${writer.base}/metrics`)).body;
    expect(metrics).toMatch(/^philotes_writer_maintenance_duration_seconds_count\{[^}]*action="compact"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^philotes_writer_compacted_bytes_total(\{[^}]*\})? [1-9]/m);
    await writer.process.stop();

    // Many commits with upkeep off: the manifest list is bounded by merging (100 a content), not by compaction.
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
    const commitsBefore = JSON.parse(readFileSync(fileURLToPath(after.metadataLocation), 'utf8'))['last-sequence-number'] as number;
    for (let i = 0; i < 115; i++) {
      await source.query(`INSERT INTO hits VALUES (${10_001 + i}, ${i}, 'late'); UPDATE hits SET v = v + 1 WHERE id = ${2001 + i}`);
      await settle();
    }
    const late = await table();
    const commits = (JSON.parse(readFileSync(fileURLToPath(late.metadataLocation), 'utf8'))['last-sequence-number'] as number) - commitsBefore;
    expect(commits).toBeGreaterThan(100);
    const manifests = await manifestsWithIcebird(late.tableLocation, late.metadataLocation);
    for (const content of [0, 2]) {
      const ofContent = manifests.filter((m) => m.entries.some((e) => e.content === content));
      expect(ofContent.length).toBeLessThanOrEqual(102);
    }
    // The merged manifests hold the older files as EXISTING; none lists only DELETED entries of an earlier commit.
    expect(manifests.some((m) => m.url.includes('m-merged') && m.entries.every((e) => e.status === 0))).toBe(true);
    expect(manifests.filter((m) => m.entries.every((e) => e.status === 2)).length).toBeLessThanOrEqual(2);
    await expectMirrored(late);
  });
});
