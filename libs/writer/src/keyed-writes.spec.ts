import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { MemoryBuffer, MemoryTableBuffer, TableRef } from '@philotes/buffer';
import { NO_FAULTS, seededRandom } from '@philotes/faults';
import { currentSchema, currentSnapshot, FileContent, IcebergTables, isDeletionVector, LoadedTable, MemoryCatalog, MemoryObjectStore, snapshotRows, TableIdentifier } from '@philotes/iceberg';
import { UNCHANGED_TOAST } from '@philotes/events';
import { column } from '@philotes/table-mapping';
import { bufferChanges, SourceChange, writerConfig } from './writer-fixtures';
import { MemoryKeyIndex } from './key-index/memory-key-index';
import { CachedKeyIndex } from './key-index/cached-key-index';
import { compareKeyIndex, liveKeyPlacements } from './key-index/rebuild';
import { deletesByPosition, keyFieldsOf } from './key-index/keyed-deletes';
import { IcebergUpkeep } from './table-upkeep';
import { TableWriter } from './table-writer';
import { WriterMetrics } from './writer-metrics';
import { writerSettingsOf } from './writer-settings';

/**
 * Upsert tables deleting by position, generated: seeded runs of inserts, updates, deletes,
 * re-inserts of deleted keys, key changes, updates that leave a TOASTed value unchanged and TRUNCATEs, in commits of random sizes, with
 * compactions whose rewrite runs while the table keeps committing, and the key index lost now and
 * then (rebuilt from the files); every third seed starts deleting by equality and is converted
 * midway, then compacted until no equality delete is left. After every step the table read back (position deletes and
 * deletion vectors applied) equals the model, no equality delete is live, a v3 data file has at
 * most one vector, and the index equals the one the files give. Replay with PHILOTES_KEYED_SEED.
 */

const ref: TableRef = { tableId: 7, sourceId: 'src', schema: 'public', table: 'kv' };
const id: TableIdentifier = { namespace: 'public', name: 'kv' };
const columns = [column('id', 'int4', { key: true, primaryKey: true }), column('v', 'text'), column('doc', 'text')];
const said: Array<[string, Record<string, unknown> | undefined]> = [];
const log = { info: (m: string, meta?: Record<string, unknown>) => void said.push([m, meta]), warn: (m: string, meta?: Record<string, unknown>) => void said.push([m, meta]), debug: (m: string, meta?: Record<string, unknown>) => void said.push([m, meta]) };

/** What the runs went through, over all seeds. */
const seen = { compactions: 0, carried: 0, rebuilds: 0, deletedByPosition: 0, conversions: 0 };

/** The step at which a converted seed's writer is told to delete by position. */
const CONVERT_AT = 10;

const first = Number(process.env.PHILOTES_KEYED_SEED ?? 1500);
const seeds = process.env.PHILOTES_KEYED_SEED ? [first] : Array.from({ length: 8 }, (_, i) => first + i);

describe('upserts deleting by position', () => {
  jest.setTimeout(120_000);

  it.each(seeds)('seed %i: the table and its key index follow the source through updates, deletes, TRUNCATE, compaction, a lost index and a conversion from equality deletes', async (seed) => {
    const random = seededRandom(seed);
    const formatVersion = seed % 2 === 0 ? 2 : 3;
    // Every third seed: a table created deleting by equality, converted at step CONVERT_AT.
    const converted = seed % 3 === 2;
    const events = new MemoryBuffer();
    const buffer = new MemoryTableBuffer(events);
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    // Three seeds in four go through the writer's cache, bounded on some to a few keys so it evicts.
    const stored = new MemoryKeyIndex();
    const cacheKeys = [0, 3, 40, 10_000][seed % 4];
    const keyIndex = cacheKeys > 0 ? new CachedKeyIndex(stored, cacheKeys) : stored;
    const metrics = new WriterMetrics(new Registry());
    const config = writerConfig({ icebergTableModes: [], icebergColumnTypes: [], icebergFormatVersion: formatVersion, icebergCompactionMinFiles: 2 });
    let settings = { ...writerSettingsOf(config), ...(converted ? { upsertDeletes: 'equality' as const } : {}) };
    const writer = new TableWriter(ref, { buffer, tables, settings: () => settings, metrics, faults: NO_FAULTS, log, keyIndex });
    const upkeep = new IcebergUpkeep({ pool: {} as Pool, buffer, tables, settings: () => settings, metrics, faults: NO_FAULTS, log, keyIndex });
    const model = new Map<number, [string, string]>();
    let next = 0;
    const pick = () => [...model.keys()][Math.floor(random() * model.size)];
    const context = (step: number) => `seed ${seed} (v${formatVersion}${converted ? ', converted' : ''}) step ${step}`;

    said.length = 0;
    for (let step = 0; step < 30; step++) {
      const changes: SourceChange[] = [];
      const roll = random();
      if (roll < 0.06 && step > 3) {
        changes.push({ op: 'T' });
        model.clear();
      }
      for (let n = Math.floor(random() * 40); n > 0; n--) {
        const r = random();
        const value = `v${step}.${n}`;
        if (model.size === 0 || r < 0.3) {
          // A new key, or one deleted earlier coming back.
          const key = random() < 0.3 && next > 0 ? Math.floor(random() * next) : next++;
          if (model.has(key)) continue;
          changes.push({ op: 'I', after: [key, value, `doc ${value}`] });
          model.set(key, [value, `doc ${value}`]);
        } else if (r < 0.7) {
          // Half the updates leave the TOASTed doc unchanged: its value comes from the key's row in the table.
          const key = pick();
          const toast = random() < 0.5;
          changes.push({ op: 'U', after: [key, value, toast ? UNCHANGED_TOAST : `doc ${value}`] });
          model.set(key, [value, toast ? model.get(key)![1] : `doc ${value}`]);
        } else if (r < 0.85) {
          const key = pick();
          changes.push({ op: 'D', before: [key, null, null] });
          model.delete(key);
        } else {
          // A key change: the old key's row goes, the new key's comes.
          const key = pick();
          const to = next++;
          changes.push({ op: 'U', before: [key, null, null], after: [to, value, `doc ${value}`] });
          model.delete(key);
          model.set(to, [value, `doc ${value}`]);
        }
      }
      await bufferChanges(events, ref, columns, changes);
      settings = { ...settings, batchSize: 1 + Math.floor(random() * 30), ...(converted && step === CONVERT_AT ? { upsertDeletes: 'position', convertEqualityDeletes: true } : {}) };
      // Half the converted seeds restart the writer with the setting; the others turn it on while the writer holds the table.
      if (converted && step === CONVERT_AT && seed % 2 === 0) writer.reset();
      while ((await writer.step()) === 'more');
      if (random() < 0.1) {
        // The index lost (emptied by hand): the writer, loading the table again, rebuilds it.
        stored.lose(ref.tableId);
        writer.reset();
      }
      if (random() < 0.35) {
        // A rewrite starts; the table commits more before the rewrite is committed onto it.
        await upkeep.run(writer);
        await until(() => upkeepSettled(upkeep, writer));
        const more: SourceChange[] = [];
        for (const key of [...model.keys()].filter(() => random() < 0.2)) {
          const value = `c${step}.${key}`;
          more.push({ op: 'U', after: [key, value, UNCHANGED_TOAST] });
          model.set(key, [value, model.get(key)![1]]);
        }
        await bufferChanges(events, ref, columns, more);
        while ((await writer.step()) === 'more');
        await upkeep.run(writer);
      }
      const table = (await tables.load(id))!;
      const byPosition = !converted || step >= CONVERT_AT;
      // A converted table's first commit after the switch records it (a step may have had nothing to commit).
      if (byPosition && (!converted || step > CONVERT_AT + 2)) expect([context(step), deletesByPosition(table.metadata)]).toEqual([context(step), true]);
      if (!byPosition) expect([context(step), deletesByPosition(table.metadata)]).toEqual([context(step), false]);
      expect([context(step), await rowsOf(tables, table)]).toEqual([context(step), new Map([...model].sort((a, b) => a[0] - b[0]))]);
      if (!converted) await expectWellFormed(tables, table, context(step));
      if (byPosition && (await keyIndex.snapshot(ref.tableId)) !== undefined) {
        const keyFields = keyFieldsOf(currentSchema(table.metadata));
        const snapshot = currentSnapshot(table.metadata);
        const placements = snapshot ? liveKeyPlacements(tables, table.metadata, snapshot['snapshot-id'], keyFields) : none();
        expect([context(step), await compareKeyIndex(stored, ref.tableId, placements)]).toEqual([context(step), { missing: 0, misplaced: 0, extra: 0 }]);
      }
    }
    if (converted) {
      // Compaction applies the equality deletes of before the switch, and removes them.
      for (let run = 0; run < 40 && (await equalityDeletes(tables)) > 0; run++) {
        await upkeep.run(writer);
        await until(() => upkeepSettled(upkeep, writer));
      }
      expect([context(30), await equalityDeletes(tables)]).toEqual([context(30), 0]);
      const table = (await tables.load(id))!;
      expect([context(30), await rowsOf(tables, table)]).toEqual([context(30), new Map([...model].sort((a, b) => a[0] - b[0]))]);
      await expectWellFormed(tables, table, context(30));
      seen.conversions++;
    }
    for (const [message, meta] of said) {
      if (message === 'compacted the table') seen.compactions++;
      if (message === 'compacted the table' && meta?.deletesCarried) seen.carried++;
      if (message === 'built the key index from the table\'s files' && Number(meta?.keyCount) > 0) seen.rebuilds++;
      seen.deletedByPosition += Number(meta?.deletedByPosition ?? 0);
    }
  });

  // The runs did what they are for: otherwise the checks above passed on nothing.
  afterAll(() => {
    expect(seen.compactions).toBeGreaterThan(0);
    expect(seen.carried).toBeGreaterThan(0);
    expect(seen.rebuilds).toBeGreaterThan(0);
    expect(seen.deletedByPosition).toBeGreaterThan(0);
    expect(seen.conversions).toBeGreaterThan(0);
  });
});

/** The upkeep's rewrite is ready to commit (or found nothing): polled, never waited on by time. */
function upkeepSettled(upkeep: IcebergUpkeep, writer: TableWriter): boolean {
  const rewrite = (upkeep as unknown as { rewrites: Map<number, { state: string }> }).rewrites.get(writer.ref.tableId);
  return rewrite === undefined || rewrite.state !== 'running';
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not met');
}

async function* none(): AsyncGenerator<never> {}

async function equalityDeletes(tables: IcebergTables): Promise<number> {
  const live = await tables.liveFiles((await tables.load(id))!.metadata);
  return live.deletes.filter((e) => e.dataFile.content === FileContent.EqualityDeletes).length;
}

async function rowsOf(tables: IcebergTables, table: LoadedTable): Promise<Map<number, [string, string]>> {
  const snapshot = currentSnapshot(table.metadata);
  const rows = new Map<number, [string, string]>();
  if (!snapshot) return rows;
  for await (const row of snapshotRows(tables, table.metadata, snapshot['snapshot-id'], currentSchema(table.metadata).fields)) {
    if (rows.has(Number(row[0]))) throw new Error(`key ${String(row[0])} is live twice`);
    rows.set(Number(row[0]), [row[1] as string, row[2] as string]);
  }
  return new Map([...rows].sort((a, b) => a[0] - b[0]));
}

/** No equality delete is live; a v3 table has no position delete file and at most one vector per data file. */
async function expectWellFormed(tables: IcebergTables, table: LoadedTable, context: string): Promise<void> {
  const live = await tables.liveFiles(table.metadata);
  expect([context, live.deletes.filter((e) => e.dataFile.content === FileContent.EqualityDeletes).length]).toEqual([context, 0]);
  if (table.metadata['format-version'] < 3) return;
  expect([context, live.deletes.filter((e) => !isDeletionVector(e.dataFile)).length]).toEqual([context, 0]);
  const referenced = live.deletes.map((e) => e.dataFile.reference!.referencedDataFile!);
  expect([context, referenced.length]).toEqual([context, new Set(referenced).size]);
}
