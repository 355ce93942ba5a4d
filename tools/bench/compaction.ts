/**
 * `npm run bench:compaction`: what compaction costs under steady upserts, planning by worth within
 * a byte bound (now) against rewriting every data file older than the newest delete (before).
 *
 * Method: a narrow upsert table (id bigint key, three columns) of ROWS rows loaded in key order
 * into BASE_FILES files; the target file size is one base file's size, and a run may rewrite
 * MAX_FILES times that (8: as the default PHILOTES_ICEBERG_COMPACTION_MAX_BYTES, 512MB, is to the
 * default target, 64MB). Time is simulated: every COMMIT_SECONDS a commit of
 * RATE × COMMIT_SECONDS updated rows (an equality-delete file of their keys and a data file of
 * their new rows, as the writer commits them), and every 60 simulated seconds an upkeep run
 * (planCompaction + compact + commit), through IcebergTables on a filesystem store in a temporary
 * directory; no pipeline, no catalog database. Two key distributions: uniform, and skewed (80% of
 * updates on 10% of the keys). Measured per run: files and bytes rewritten, the run's wall time
 * (how long the table's next commit would wait); over the whole time: live files, delete files per
 * data file and delete rows a reader compares per live row (read amplification).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@philotes/faults';
import {
  compact,
  CompactionPlan,
  DataFile,
  FileContent,
  FileSystemObjectStore,
  IcebergSchema,
  IcebergTables,
  LiveFiles,
  LoadedTable,
  MemoryCatalog,
  planCompaction,
  sequenceOf,
  storeKeyReader,
  TableChange,
  writeDataFile,
} from '@philotes/iceberg';
import { machineDescription, replaceSection } from './report';

const ROWS = Number(process.env.BENCH_COMPACTION_ROWS ?? 10_000_000);
const SECONDS = Number(process.env.BENCH_COMPACTION_SECONDS ?? 3600);
const RATE = Number(process.env.BENCH_COMPACTION_RATE ?? 5000);
const COMMIT_SECONDS = Number(process.env.BENCH_COMPACTION_COMMIT_SECONDS ?? 5);
const BASE_FILES = Number(process.env.BENCH_COMPACTION_BASE_FILES ?? 10);
const MAX_FILES = Number(process.env.BENCH_COMPACTION_MAX_FILES ?? 8);
const UPKEEP_SECONDS = 60;
const SEED = Number(process.env.BENCH_SEED ?? 20261202);
const ROOT = join(__dirname, '..', '..');

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'version', required: false, type: 'long' },
    { id: 3, name: 'label', required: false, type: 'string' },
    { id: 4, name: 'amount', required: false, type: 'double' },
  ],
};
const KEY = [SCHEMA.fields[0]];

type Policy = 'worth' | 'everything';
type Distribution = 'uniform' | 'skewed';

interface Run {
  readonly at: number;
  readonly files: number;
  readonly bytes: number;
  readonly deletesRemoved: number;
  readonly seconds: number;
  /** Of which planning (delete keys read, candidates' keys read). */
  readonly planSeconds: number;
}

interface Amplification {
  readonly deletesPerDataFile: number;
  readonly deleteRowsPerRow: number;
  readonly liveFiles: number;
}

const row = (id: number, version: number) => [BigInt(id), BigInt(version), `label-${id % 1000}`, (id % 10_000) / 7];

/** What a reader pays: delete files per data file, and delete rows each live row is compared against. */
function amplification(live: LiveFiles): Amplification {
  let compared = 0;
  let rows = 0;
  for (const data of live.data) {
    const deleteRows = live.deletes.filter((d) => sequenceOf(d) > sequenceOf(data)).reduce((sum, d) => sum + d.dataFile.recordCount, 0);
    compared += deleteRows * data.dataFile.recordCount;
    rows += data.dataFile.recordCount;
  }
  return { deletesPerDataFile: live.deletes.length / Math.max(1, live.data.length), deleteRowsPerRow: compared / Math.max(1, rows), liveFiles: live.data.length + live.deletes.length };
}

/** The policy before: every data file older than the newest delete (or small), with every delete applied and removed. */
function everythingPlan(live: LiveFiles, targetFileSize: number): CompactionPlan | undefined {
  if (live.deletes.length === 0) return undefined;
  const newest = Math.max(...live.deletes.map(sequenceOf));
  const rewrite = live.data.filter((e) => sequenceOf(e) < newest || e.dataFile.fileSizeInBytes < targetFileSize * 0.75);
  const bytes = rewrite.reduce((s, e) => s + e.dataFile.fileSizeInBytes, 0);
  return { groups: [{ key: '', rewrite }], rewrite, deletes: live.deletes, applied: live.deletes, stats: { smallFiles: 0, hitFiles: rewrite.length, bytes, filesRead: 0, bytesRead: 0 } };
}

async function simulate(policy: Policy, distribution: Distribution): Promise<{ runs: Run[]; amplifications: Amplification[]; commitSeconds: number[]; targetFileSize: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'philotes-bench-compaction-'));
  try {
    const store = new FileSystemObjectStore(dir);
    const tables = new IcebergTables(store, new MemoryCatalog());
    let table: LoadedTable = await tables.create({ namespace: 'bench', name: 'narrow' }, SCHEMA, {});
    const commit = async (change: TableChange) => {
      const prepared = await tables.prepare(table, change);
      if (!(await tables.publish(table, prepared))) throw new Error('lost the compare-and-swap with nothing else committing');
      table = { id: table.id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    };
    // The base load, in key order: narrow key bounds per file, as a table's initial copy writes them.
    const perFile = Math.ceil(ROWS / BASE_FILES);
    const base: DataFile[] = [];
    for (let from = 0; from < ROWS; from += perFile) {
      const rows = Array.from({ length: Math.min(perFile, ROWS - from) }, (_, i) => row(from + i, 0));
      base.push(await writeDataFile(store, table.metadata.location, SCHEMA, SCHEMA.fields, rows));
    }
    await commit({ operation: 'append', addedDataFiles: base, addedDeleteFiles: [] });
    const targetFileSize = Math.min(...base.map((f) => f.fileSizeInBytes));
    const compaction = { targetFileSize, minFiles: 2, maxBytes: MAX_FILES * targetFileSize };

    const random = seededRandom(SEED + (distribution === 'skewed' ? 1 : 0));
    const draw = () => Math.floor(distribution === 'skewed' && random() < 0.8 ? random() * ROWS * 0.1 : random() * ROWS);
    const runs: Run[] = [];
    const amplifications: Amplification[] = [];
    const commitSeconds: number[] = [];
    for (let second = COMMIT_SECONDS; second <= SECONDS; second += COMMIT_SECONDS) {
      // One commit: the buffer folds repeated keys, so each key once.
      const keys = new Set<number>();
      for (let i = 0; i < RATE * COMMIT_SECONDS; i++) keys.add(draw());
      const started = performance.now();
      const ids = [...keys];
      const deletes = await writeDataFile(store, table.metadata.location, SCHEMA, KEY, ids.map((id) => [BigInt(id)]), FileContent.EqualityDeletes, [1]);
      const data = await writeDataFile(store, table.metadata.location, SCHEMA, SCHEMA.fields, ids.map((id) => row(id, second)));
      await commit({ operation: 'overwrite', addedDataFiles: [data], addedDeleteFiles: [deletes] });
      commitSeconds.push((performance.now() - started) / 1000);
      if (second % UPKEEP_SECONDS !== 0) continue;

      const runStarted = performance.now();
      const live = await tables.liveFiles(table.metadata);
      amplifications.push(amplification(live));
      const plan = policy === 'worth' ? await planCompaction(live, SCHEMA.fields, compaction, storeKeyReader(store)) : everythingPlan(live, targetFileSize);
      const planSeconds = (performance.now() - runStarted) / 1000;
      if (plan) await commit(await compact(store, table, plan, targetFileSize));
      const seconds = (performance.now() - runStarted) / 1000;
      const run = { at: second, files: plan?.rewrite.length ?? 0, bytes: plan?.stats.bytes ?? 0, deletesRemoved: plan?.deletes.length ?? 0, seconds, planSeconds };
      runs.push(run);
      console.log(`${policy} ${distribution} t=${second}s: rewrote ${run.files} files (${mb(run.bytes)} MB), removed ${run.deletesRemoved} delete files in ${run.seconds.toFixed(2)} s (planning ${run.planSeconds.toFixed(2)} s); before it ${amplifications.at(-1)!.liveFiles} live files, ${amplifications.at(-1)!.deleteRowsPerRow.toFixed(0)} delete rows per row`);
    }
    amplifications.push(amplification(await tables.liveFiles(table.metadata)));
    return { runs, amplifications, commitSeconds, targetFileSize };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const max = (values: readonly number[]) => Math.max(...values);
const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);

async function main(): Promise<void> {
  const lines: string[] = [];
  const totals = new Map<string, number>();
  let target = 0;
  for (const distribution of ['uniform', 'skewed'] as const) {
    for (const policy of ['worth', 'everything'] as const) {
      const { runs, amplifications, commitSeconds, targetFileSize } = await simulate(policy, distribution);
      target = targetFileSize;
      const bytes = runs.reduce((s, r) => s + r.bytes, 0);
      totals.set(`${policy} ${distribution}`, bytes);
      const end = amplifications.at(-1)!;
      lines.push(
        `| ${distribution} | ${policy === 'worth' ? 'by worth, bounded (now)' : 'everything older than the newest delete (before)'} | ${runs.length} | ${mb(bytes)} MB | ${mb(max(runs.map((r) => r.bytes)))} MB / ${max(runs.map((r) => r.files))} files | ${mean(runs.map((r) => r.seconds)).toFixed(2)} s / ${max(runs.map((r) => r.seconds)).toFixed(2)} s (planning ${mean(runs.map((r) => r.planSeconds)).toFixed(2)} s) | ${mean(commitSeconds).toFixed(2)} s | ${end.liveFiles} (${max(amplifications.map((a) => a.liveFiles))}) | ${end.deletesPerDataFile.toFixed(2)} (${max(amplifications.map((a) => a.deletesPerDataFile)).toFixed(2)}) | ${end.deleteRowsPerRow.toFixed(0)} (${max(amplifications.map((a) => a.deleteRowsPerRow)).toFixed(0)}) |`,
      );
    }
  }
  const ratio = (d: Distribution) => (totals.get(`everything ${d}`)! / Math.max(1, totals.get(`worth ${d}`)!)).toFixed(1);
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}, seed ${SEED}.`,
    '',
    `A table of ${ROWS.toLocaleString()} rows (id bigint key, a bigint, a string, a double) in ${BASE_FILES} base files in key order; ${RATE.toLocaleString()} updated rows per simulated second, committed every ${COMMIT_SECONDS} s (an equality-delete file and a data file each), for ${SECONDS / 60} simulated minutes, an upkeep run every minute. Target file size = one base file (${mb(target)} MB); a run may rewrite ${MAX_FILES} times that (${mb(MAX_FILES * target)} MB). Straight through IcebergTables, planCompaction and compact on a filesystem store (no pipeline).`,
    `${ROWS === 10_000_000 && SECONDS === 3600 ? 'The defaults.' : 'Scaled down from the defaults (10,000,000 rows, 60 simulated minutes), too slow for this machine.'} Parameters: BENCH_COMPACTION_ROWS=${ROWS} BENCH_COMPACTION_SECONDS=${SECONDS} BENCH_COMPACTION_RATE=${RATE} BENCH_COMPACTION_COMMIT_SECONDS=${COMMIT_SECONDS} BENCH_COMPACTION_BASE_FILES=${BASE_FILES} BENCH_COMPACTION_MAX_FILES=${MAX_FILES}.`,
    '',
    '| keys | compaction | runs | bytes rewritten in all | largest run | run time mean / max (= a commit\'s wait) | commit time mean | live files at end (max) | delete files per data file at end (max) | delete rows compared per live row at end (max) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
    `The old policy rewrote ${ratio('uniform')}× the bytes under uniform keys and ${ratio('skewed')}× under skewed keys.`,
    '',
    `How to read it: ${((RATE * UPKEEP_SECONDS) / ROWS * 100).toFixed(0)}% of the table's rows change between two runs here, so every file is hit every minute. The old policy's run is the whole table older than the newest delete, and grows with the table; the new one's is bounded by the byte budget (what a commit waits for) and spent on the oldest deletes first. The price: a delete file lives until every older file it hits has been rewritten once, so when the changes of a minute exceed what a run may rewrite, readers compare more delete rows between runs than right after an old-policy run (which left none). Planning reads every live delete file's keys each run (the "planning" part of the run time).`,
  ].join('\n');
  console.log(`\n${report}`);
  replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'compaction', '## Compaction under steady upserts', report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
