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
 * directory; no pipeline, no catalog database. BENCH_COMPACTION_MECHANISM says how a run meets
 * the commits: `beside` (the writer now) plans and rewrites while the simulated commits go on for
 * as long as the rewrite took, then rebases and commits it, so a commit waits only for that last
 * step; `inline` (before) holds the commits for the whole run. Two key distributions: uniform, and skewed (80% of
 * updates on 10% of the keys). Measured per run: files and bytes rewritten, the run's wall time
 * (how long the table's next commit would wait); over the whole time: live files, delete files per
 * data file and delete rows a reader compares per live row (read amplification).
 *
 * A full-size scenario takes about an hour on two cores, so scenarios can run apart:
 * BENCH_COMPACTION_SCENARIOS=worth:uniform,everything:skewed picks some, each result is kept as
 * JSON in BENCH_COMPACTION_RESULTS (default docs/bench-results/compaction, committed with the report), and the report covers every
 * result kept there (BENCH_COMPACTION_REPORT_ONLY=1 writes it without running anything). Each
 * result carries its own parameters, so a scenario run shorter than another says so in its row.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@philotes/faults';
import {
  compact,
  CompactionPlan,
  DataFile,
  FileContent,
  deleteByPosition,
  FileSystemObjectStore,
  IcebergSchema,
  IcebergTables,
  LiveFiles,
  LoadedTable,
  ManifestEntry,
  MemoryCatalog,
  planCompaction,
  sequenceOf,
  storeKeyReader,
  rebaseCompaction,
  RowRelocations,
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
const RESULTS = process.env.BENCH_COMPACTION_RESULTS ?? join(ROOT, 'docs', 'bench-results', 'compaction');
const SCENARIOS = (process.env.BENCH_COMPACTION_SCENARIOS ?? 'worth:uniform,everything:uniform,worth:skewed,everything:skewed').split(',');
const REPORT_ONLY = process.env.BENCH_COMPACTION_REPORT_ONLY === '1';
const MECHANISM = (process.env.BENCH_COMPACTION_MECHANISM ?? 'beside') as Mechanism;

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
/** How the simulated writer deletes: equality deletes, v2 position delete files, or v3 deletion vectors (both from a key index). */
type Deletes = 'equality' | 'position' | 'vectors';
type Mechanism = 'beside' | 'inline';

interface Run {
  readonly at: number;
  readonly files: number;
  readonly bytes: number;
  readonly deletesRemoved: number;
  readonly seconds: number;
  /** Of which planning (delete keys read, candidates' keys read). */
  readonly planSeconds: number;
  /** What the table's commits waited for: the whole run inline; beside, the rebase and commit. */
  readonly waitSeconds?: number;
  /** Beside: the rewrite lost a file to a commit meanwhile and was dropped. */
  readonly dropped?: boolean;
}

/** One scenario's outcome, kept as JSON with the parameters it ran with. */
interface Result {
  /** Absent in results kept before the writer rewrote beside its commits: inline. */
  readonly mechanism?: Mechanism;
  readonly policy: Policy;
  readonly distribution: Distribution;
  /** Absent in results kept before the writer deleted by position: equality. */
  readonly deletes?: Deletes;
  readonly parameters: { rows: number; seconds: number; rate: number; commitSeconds: number; baseFiles: number; maxFiles: number; seed: number };
  readonly measured: string;
  readonly machine: string;
  readonly runs: Run[];
  /** Before each run, then at the end. */
  readonly amplifications: Amplification[];
  readonly commitSeconds: number[];
  readonly targetFileSize: number;
}

interface Amplification {
  readonly deletesPerDataFile: number;
  readonly deleteRowsPerRow: number;
  /** Delete rows a reader of every live data file reads, per live row (absent from results measured before it was). */
  readonly deleteRowsReadPerRow?: number;
  readonly liveFiles: number;
}

const row = (id: number, version: number) => [BigInt(id), BigInt(version), `label-${id % 1000}`, (id % 10_000) / 7];

/**
 * What a reader pays: delete files per data file, and delete rows each live row is compared
 * against: every equality delete of a later sequence number; of position deletes, the rows of the
 * files that apply to its file (same or later sequence number, naming its file or no single file:
 * a reader reads such a file whole), and of deletion vectors its own file's vector alone. That
 * product is what an equality delete costs a reader that compares naively; a reader of position
 * deletes or vectors merges them with its rows by position instead, so what it pays is the delete
 * rows it reads: read per live row, summed over the data files each is read for.
 */
function amplification(live: LiveFiles): Amplification {
  let compared = 0;
  let read = 0;
  let rows = 0;
  for (const data of live.data) {
    const applies = (d: ManifestEntry) =>
      d.dataFile.content === FileContent.EqualityDeletes
        ? sequenceOf(d) > sequenceOf(data)
        : sequenceOf(d) >= sequenceOf(data) && (d.dataFile.reference?.referencedDataFile ?? data.dataFile.filePath) === data.dataFile.filePath;
    const deleteRows = live.deletes.filter(applies).reduce((sum, d) => sum + d.dataFile.recordCount, 0);
    compared += deleteRows * data.dataFile.recordCount;
    read += deleteRows;
    rows += data.dataFile.recordCount;
  }
  return { deletesPerDataFile: live.deletes.length / Math.max(1, live.data.length), deleteRowsPerRow: compared / Math.max(1, rows), deleteRowsReadPerRow: read / Math.max(1, rows), liveFiles: live.data.length + live.deletes.length };
}

/** The policy before: every data file older than the newest delete (or small), with every delete applied and removed. */
function everythingPlan(live: LiveFiles, targetFileSize: number): CompactionPlan | undefined {
  if (live.deletes.length === 0) return undefined;
  const newest = Math.max(...live.deletes.map(sequenceOf));
  const rewrite = live.data.filter((e) => sequenceOf(e) < newest || e.dataFile.fileSizeInBytes < targetFileSize * 0.75);
  const bytes = rewrite.reduce((s, e) => s + e.dataFile.fileSizeInBytes, 0);
  return { groups: [{ key: '', rewrite }], rewrite, deletes: live.deletes, applied: live.deletes, stats: { smallFiles: 0, hitFiles: rewrite.length, bytes, filesRead: 0, bytesRead: 0 } };
}

/**
 * The key index as the simulated writer keeps it: ids are 0..ROWS-1, so two typed arrays (file
 * number and position by id) and each file's keys in row order stand in for the buffer database's
 * table; relocations apply by place (PostgresKeyIndex moves by key, each run carrying its rows' keys: the same moves here, where an id is its own key).
 */
class SimulatedKeyIndex {
  private readonly fileOf: Int32Array;
  private readonly posOf: Int32Array;
  private readonly paths: string[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly keysOf = new Map<string, Int32Array>();

  constructor(rows: number) {
    this.fileOf = new Int32Array(rows).fill(-1);
    this.posOf = new Int32Array(rows);
  }

  /** A data file written with these ids in row order. */
  place(path: string, ids: readonly number[]): void {
    const file = this.number(path);
    this.keysOf.set(path, Int32Array.from(ids));
    ids.forEach((id, position) => {
      this.fileOf[id] = file;
      this.posOf[id] = position;
    });
  }

  /** Where the ids live now, by file path. */
  hits(ids: readonly number[]): Map<string, number[]> {
    const hits = new Map<string, number[]>();
    for (const id of ids) {
      if (this.fileOf[id] < 0) continue;
      const path = this.paths[this.fileOf[id]];
      let list = hits.get(path);
      if (!list) hits.set(path, (list = []));
      list.push(this.posOf[id]);
    }
    return hits;
  }

  /** A committed compaction: each key still at a place it copied moves with its row. */
  relocate(relocations: RowRelocations, sizes: ReadonlyMap<string, number>): void {
    const newKeys = new Map<string, Int32Array>();
    for (const run of relocations.runs) {
      const from = this.keysOf.get(run.from)!;
      const fromFile = this.numbers.get(run.from)!;
      const to = this.number(run.to);
      let keys = newKeys.get(run.to);
      if (!keys) newKeys.set(run.to, (keys = new Int32Array(sizes.get(run.to)!).fill(-1)));
      run.fromPositions.forEach((position, i) => {
        const id = from[position];
        keys![run.toPositions[i]] = id;
        if (this.fileOf[id] === fromFile && this.posOf[id] === position) {
          this.fileOf[id] = to;
          this.posOf[id] = run.toPositions[i];
        }
      });
    }
    for (const [path, keys] of newKeys) this.keysOf.set(path, keys);
  }

  private number(path: string): number {
    let n = this.numbers.get(path);
    if (n === undefined) {
      n = this.paths.push(path) - 1;
      this.numbers.set(path, n);
    }
    return n;
  }
}

async function simulate(policy: Policy, distribution: Distribution, deletes: Deletes): Promise<Result> {
  if (deletes !== 'equality' && policy !== 'worth') throw new Error('deletes by position are compacted by the current policy (worth) only');
  const dir = mkdtempSync(join(tmpdir(), 'philotes-bench-compaction-'));
  try {
    const store = new FileSystemObjectStore(dir);
    const tables = new IcebergTables(store, new MemoryCatalog());
    let table: LoadedTable = await tables.create({ namespace: 'bench', name: 'narrow' }, SCHEMA, {}, [], deletes === 'vectors' ? 3 : 2);
    const index = deletes === 'equality' ? undefined : new SimulatedKeyIndex(ROWS);
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
      const file = await writeDataFile(store, table.metadata.location, SCHEMA, SCHEMA.fields, rows);
      index?.place(file.filePath, rows.map((_, i) => from + i));
      base.push(file);
    }
    await commit({ operation: 'append', addedDataFiles: base, addedDeleteFiles: [] });
    const targetFileSize = Math.min(...base.map((f) => f.fileSizeInBytes));
    const compaction = { targetFileSize, minFiles: 2, maxBytes: MAX_FILES * targetFileSize };

    const random = seededRandom(SEED + (distribution === 'skewed' ? 1 : 0));
    const draw = () => Math.floor(distribution === 'skewed' && random() < 0.8 ? random() * ROWS * 0.1 : random() * ROWS);
    const runs: Run[] = [];
    const amplifications: Amplification[] = [];
    const commitSeconds: number[] = [];
    /** Beside: a rewrite made, committed once the simulated clock has passed the time it took. */
    let pending:
      | {
          readonly at: number;
          readonly readyAt: number;
          readonly planned: LoadedTable;
          readonly live: ReadonlySet<string>;
          readonly plan: CompactionPlan;
          readonly change: TableChange;
          readonly seconds: number;
          readonly planSeconds: number;
          readonly relocations?: RowRelocations;
        }
      | undefined;
    const moved = (change: TableChange, relocations: RowRelocations | undefined) => index?.relocate(relocations!, new Map(change.addedDataFiles.map((f) => [f.filePath, f.recordCount])));
    const report = (run: Run) => {
      runs.push(run);
      console.log(`${policy} ${distribution} ${deletes} ${MECHANISM} t=${run.at}s: rewrote ${run.files} files (${mb(run.bytes)} MB)${run.dropped ? ', dropped' : ''}, removed ${run.deletesRemoved} delete files in ${run.seconds.toFixed(2)} s (planning ${run.planSeconds.toFixed(2)} s), commits waited ${run.waitSeconds!.toFixed(2)} s; before it ${amplifications.at(-1)!.liveFiles} live files, ${amplifications.at(-1)!.deleteRowsPerRow.toFixed(0)} delete rows per row`);
    };
    for (let second = COMMIT_SECONDS; second <= SECONDS; second += COMMIT_SECONDS) {
      if (pending && second >= pending.readyAt) {
        const waitStarted = performance.now();
        const rebased = await rebaseCompaction(tables, pending.change, { table: pending.planned, live: pending.live }, table, pending.relocations);
        if ('change' in rebased) {
          await commit(rebased.change);
          moved(rebased.change, pending.relocations);
        }
        const { at, plan, seconds, planSeconds } = pending;
        report({ at, files: plan.rewrite.length, bytes: plan.stats.bytes, deletesRemoved: 'change' in rebased ? plan.deletes.length : 0, seconds, planSeconds, waitSeconds: (performance.now() - waitStarted) / 1000, dropped: !('change' in rebased) });
        pending = undefined;
      }
      // One commit: the buffer folds repeated keys, so each key once.
      const keys = new Set<number>();
      for (let i = 0; i < RATE * COMMIT_SECONDS; i++) keys.add(draw());
      const started = performance.now();
      const ids = [...keys];
      if (index) {
        // As the writer commits: the keys looked up, their rows deleted by position, the new rows placed.
        const written = await deleteByPosition(store, table.metadata, await tables.liveFiles(table.metadata), index.hits(ids));
        const data = await writeDataFile(store, table.metadata.location, SCHEMA, SCHEMA.fields, ids.map((id) => row(id, second)));
        await commit({ operation: 'overwrite', addedDataFiles: [data], addedDeleteFiles: written.deleteFiles, removedEntries: written.removedEntries });
        index.place(data.filePath, ids);
      } else {
        const deleteFile = await writeDataFile(store, table.metadata.location, SCHEMA, KEY, ids.map((id) => [BigInt(id)]), FileContent.EqualityDeletes, [1]);
        const data = await writeDataFile(store, table.metadata.location, SCHEMA, SCHEMA.fields, ids.map((id) => row(id, second)));
        await commit({ operation: 'overwrite', addedDataFiles: [data], addedDeleteFiles: [deleteFile] });
      }
      commitSeconds.push((performance.now() - started) / 1000);
      // A run is due each minute; beside, one still rewriting lets it pass.
      if (second % UPKEEP_SECONDS !== 0 || pending) continue;

      const runStarted = performance.now();
      const live = await tables.liveFiles(table.metadata);
      amplifications.push(amplification(live));
      const plan = policy === 'worth' ? await planCompaction(live, SCHEMA.fields, compaction, storeKeyReader(store)) : everythingPlan(live, targetFileSize);
      const planSeconds = (performance.now() - runStarted) / 1000;
      const relocations = index ? new RowRelocations() : undefined;
      const change = plan && (await compact(store, table, plan, targetFileSize, relocations));
      if (plan && change && MECHANISM === 'beside') {
        const seconds = (performance.now() - runStarted) / 1000;
        const livePaths = new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath));
        pending = { at: second, readyAt: second + seconds, planned: table, live: livePaths, plan, change, seconds, planSeconds, ...(relocations ? { relocations } : {}) };
        continue;
      }
      if (change) {
        await commit(change);
        moved(change, relocations);
      }
      const seconds = (performance.now() - runStarted) / 1000;
      report({ at: second, files: plan?.rewrite.length ?? 0, bytes: plan?.stats.bytes ?? 0, deletesRemoved: plan?.deletes.length ?? 0, seconds, planSeconds, waitSeconds: seconds });
    }
    amplifications.push(amplification(await tables.liveFiles(table.metadata)));
    const parameters = { rows: ROWS, seconds: SECONDS, rate: RATE, commitSeconds: COMMIT_SECONDS, baseFiles: BASE_FILES, maxFiles: MAX_FILES, seed: SEED };
    return { mechanism: MECHANISM, policy, distribution, deletes, parameters, measured: new Date().toISOString().slice(0, 10), machine: machineDescription(), runs, amplifications, commitSeconds, targetFileSize };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const max = (values: readonly number[]) => Math.max(...values);
const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
const resultFile = (policy: string, distribution: string, deletes: Deletes) => join(RESULTS, `${policy}-${distribution}-${ROWS}-${SECONDS}-${MECHANISM}${deletes === 'equality' ? '' : `-${deletes}`}.json`);

function kept(): Result[] {
  if (!existsSync(RESULTS)) return [];
  const order = (r: Result) => (r.distribution === 'uniform' ? 0 : 40) + (r.policy === 'worth' ? 0 : 20) + ((r.mechanism ?? 'inline') === 'beside' ? 0 : 10) + ['vectors', 'position', 'equality'].indexOf(r.deletes ?? 'equality') - r.parameters.rows / 1e9;
  return readdirSync(RESULTS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as Result)
    .sort((a, b) => order(a) - order(b));
}

const DELETES_LABEL: Record<Deletes, string> = { equality: 'equality deletes', position: 'position deletes (v2, key index)', vectors: 'deletion vectors (v3, key index)' };

const label = (r: Result) =>
  `${DELETES_LABEL[r.deletes ?? 'equality']}; ${r.policy === 'worth' ? 'by worth, bounded (now)' : 'everything older than the newest delete (before)'}, ${(r.mechanism ?? 'inline') === 'beside' ? 'beside the commits (now)' : 'holding the commits (before)'}`;

function tableRow(r: Result): string {
  const bytes = r.runs.reduce((s, run) => s + run.bytes, 0);
  const end = r.amplifications.at(-1)!;
  const p = r.parameters;
  const waits = r.runs.map((run) => run.waitSeconds ?? run.seconds);
  return `| ${r.distribution} | ${label(r)} | ${p.rows.toLocaleString()} / ${p.seconds / 60} min | ${r.runs.length}${r.runs.some((run) => run.dropped) ? ` (${r.runs.filter((run) => run.dropped).length} dropped)` : ''} | ${mb(bytes)} MB | ${mean(r.runs.map((run) => run.files)).toFixed(1)} files, ${mb(mean(r.runs.map((run) => run.bytes)))} MB | ${max(r.runs.map((run) => run.files))} files, ${mb(max(r.runs.map((run) => run.bytes)))} MB | ${mean(r.runs.map((run) => run.seconds)).toFixed(2)} s / ${max(r.runs.map((run) => run.seconds)).toFixed(2)} s (planning ${mean(r.runs.map((run) => run.planSeconds)).toFixed(2)} s) | **${mean(waits).toFixed(2)} s / ${max(waits).toFixed(2)} s** | ${mean(r.commitSeconds).toFixed(2)} s | ${end.liveFiles} (${max(r.amplifications.map((a) => a.liveFiles))}) | ${end.deletesPerDataFile.toFixed(2)} (${max(r.amplifications.map((a) => a.deletesPerDataFile)).toFixed(2)}) | ${end.deleteRowsPerRow.toFixed(0)} (${max(r.amplifications.map((a) => a.deleteRowsPerRow)).toFixed(0)}) | ${readPerRow(r)} |`;
}

/** Delete rows read per live row at the end (the most before a run), for results that measured it. */
function readPerRow(r: Result): string {
  const end = r.amplifications.at(-1)!.deleteRowsReadPerRow;
  if (end === undefined) return '—';
  return `${end.toFixed(3)} (${max(r.amplifications.map((a) => a.deleteRowsReadPerRow ?? 0)).toFixed(3)})`;
}

/** Read amplification before the runs at every tenth of the simulated time: whether it stays bounded or grows. */
const sized = (r: Result) => `${r.parameters.rows.toLocaleString()} / ${r.parameters.seconds / 60} min`;

function overTime(r: Result): string {
  const step = Math.max(1, Math.round(r.runs.length / 6));
  const points = r.runs.flatMap((run, i) => ((i + 1) % step === 0 ? [`${run.at / 60} min: ${r.amplifications[i].deletesPerDataFile.toFixed(2)} / ${r.amplifications[i].deleteRowsPerRow.toFixed(0)}`] : []));
  return `| ${r.distribution} | ${label(r)} | ${sized(r)} | ${points.join('; ')} |`;
}

function report(results: readonly Result[]): string {
  const first = results[0];
  const p = first.parameters;
  const bytesOf = (policy: Policy, d: Distribution) => {
    // Compared at the largest size both policies ran.
    const r = results.filter((x) => x.policy === policy && x.distribution === d).sort((a, b) => b.parameters.rows - a.parameters.rows)[0];
    return r && r.runs.reduce((s, run) => s + run.bytes, 0) / r.runs.length;
  };
  const ratios = (['uniform', 'skewed'] as const).flatMap((d) => {
    const now = bytesOf('worth', d);
    const before = bytesOf('everything', d);
    return now && before ? [`${(before / now).toFixed(1)}× the bytes per run under ${d} keys`] : [];
  });
  const full = results.every((r) => r.parameters.rows === 10_000_000 && r.parameters.seconds === 3600);
  return [
    `Measured ${[...new Set(results.map((r) => r.measured))].join(', ')} on ${first.machine}, seed ${p.seed}.`,
    '',
    `A narrow upsert table (id bigint key, a bigint, a string, a double) in ${p.baseFiles} base files in key order; ${p.rate.toLocaleString()} updated rows per simulated second, committed every ${p.commitSeconds} s (a data file and the deletes of the rows it replaces: an equality-delete file, or, looked up in a key index, a position delete file (v2) or deletion vectors merged per hit file (v3), as each row's first column says), an upkeep run every simulated minute. Target file size = one base file (${mb(first.targetFileSize)} MB at ${p.rows.toLocaleString()} rows); a run may rewrite ${p.maxFiles} times that, as the default PHILOTES_ICEBERG_COMPACTION_MAX_BYTES (512MB) is to the default target (64MB). Straight through IcebergTables, planCompaction and compact on a filesystem store (no pipeline). Simulated time: the wall time a scenario takes is not part of it, only what each commit and run measured.`,
    full
      ? 'Every scenario at the issue\'s size: 10,000,000 rows for 60 simulated minutes.'
      : 'The "rows / simulated time" column says each scenario\'s size: the issue\'s is 10,000,000 rows for 60 simulated minutes; a smaller one is labelled so by its numbers. The old policy rewrites the whole table every minute, which at full size for an hour is more than this machine runs in a session.',
    `Parameters: BENCH_COMPACTION_RATE=${p.rate} BENCH_COMPACTION_COMMIT_SECONDS=${p.commitSeconds} BENCH_COMPACTION_BASE_FILES=${p.baseFiles} BENCH_COMPACTION_MAX_FILES=${p.maxFiles}, with BENCH_COMPACTION_ROWS and BENCH_COMPACTION_SECONDS as in each row. Two scenarios at a time on this 2-core machine, so run times include some contention.`,
    '',
    '| keys | deletes; compaction | rows / simulated time | runs | bytes rewritten in all | per run, mean | largest run | run time mean / max | commits waited mean / max | commit time mean | live files at end (max) | delete files per data file at end (max) | delete rows compared per live row at end (max) | delete rows read per live row at end (max) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(tableRow),
    '',
    ratios.length > 0 ? `The old policy rewrote ${ratios.join(' and ')}.` : '',
    '',
    'Read amplification before a run, over the simulated time (delete files per data file / delete rows compared per live row):',
    '',
    '| keys | deletes; compaction | rows / simulated time | before the run at |',
    '| --- | --- | --- | --- |',
    ...results.map(overTime),
    '',
    `How to read it: ${((p.rate * UPKEEP_SECONDS) / p.rows * 100).toFixed(0)}% of the table's rows change between two runs, spread over every file, so every file is hit every minute. The old policy's run is the whole table older than the newest delete, and grows with the table; the new one's is bounded by the byte budget and spent on the oldest deletes first. Holding the commits, a run was what the table's next commit waited for; beside them, a commit waits only for the rewrite's rebase and commit (reading the live manifests once, then a commit like the others), while the deletes committed during the rewrite stay for the next run. The price: an equality-delete file lives until every older file it hits has been rewritten once, so when a minute's changes touch more than a run may rewrite, readers compare more delete rows between runs than right after an old-policy run (which left none). That cost is bounded by how long one pass over the table takes at the budget, not by the table's age; position deletes (issue #15) remove it. Planning reads every live delete file's keys each run (the "planning" part of the run time).`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!REPORT_ONLY) {
    mkdirSync(RESULTS, { recursive: true });
    for (const scenario of SCENARIOS) {
      const [policy, distribution, deletes = 'equality'] = scenario.split(':') as [Policy, Distribution, Deletes?];
      if (!['worth', 'everything'].includes(policy) || !['uniform', 'skewed'].includes(distribution) || !['equality', 'position', 'vectors'].includes(deletes)) {
        throw new Error(`BENCH_COMPACTION_SCENARIOS: ${scenario} is not policy:distribution[:deletes] (worth|everything : uniform|skewed : equality|position|vectors)`);
      }
      writeFileSync(resultFile(policy, distribution, deletes), JSON.stringify(await simulate(policy, distribution, deletes)));
    }
  }
  const results = kept();
  if (results.length === 0) throw new Error(`no results in ${RESULTS}`);
  const text = report(results);
  console.log(`\n${text}`);
  replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'compaction', '## Compaction under steady upserts', text);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
