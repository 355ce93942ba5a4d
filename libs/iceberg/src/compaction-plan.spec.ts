import { seededRandom } from '@philotes/faults';
import { CompactionPlan, KeyColumnReader, planCompaction } from './compaction-plan';
import { isDeleted } from './equality-deletes';
import { EntryStatus, FileContent, ManifestEntry } from './manifest';
import { serialize } from './parquet/bounds';
import { NestedField } from './schema';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? Date.now() % 1_000_000);
const FIELDS: NestedField[] = [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'v', required: false, type: 'string' },
];
const ROW_BYTES = 10;

/**
 * A table in memory: files are keys (and, for data files, a row id per key) with the manifest
 * statistics the writer would record. What a reader sees is computed by the spec's rule: a data
 * row is gone when a delete file of a higher sequence number holds its key.
 */
class Model {
  readonly data: ManifestEntry[] = [];
  readonly deletes: ManifestEntry[] = [];
  readonly keysOf = new Map<string, bigint[]>();
  readonly rowIds = new Map<string, string[]>();
  sequence = 0;
  reads: string[] = [];
  private files = 0;

  add(content: 'data' | 'deletes', keys: readonly bigint[], sequence: number, bounds = true): ManifestEntry {
    const path = `f${this.files++}-${content}`;
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const entry: ManifestEntry = {
      status: EntryStatus.Added,
      sequenceNumber: sequence,
      dataFile: {
        content: content === 'data' ? FileContent.Data : FileContent.EqualityDeletes,
        filePath: path,
        recordCount: keys.length,
        fileSizeInBytes: keys.length * ROW_BYTES,
        valueCounts: new Map([[1, keys.length]]),
        nullValueCounts: new Map([[1, 0]]),
        lowerBounds: bounds ? new Map([[1, serialize('long', sorted[0])]]) : new Map(),
        upperBounds: bounds ? new Map([[1, serialize('long', sorted[sorted.length - 1])]]) : new Map(),
        ...(content === 'deletes' ? { equalityIds: [1] } : {}),
      },
    };
    this.keysOf.set(path, [...keys]);
    if (content === 'data') this.rowIds.set(path, keys.map((k) => `${sequence}:${k}`));
    (content === 'data' ? this.data : this.deletes).push(entry);
    return entry;
  }

  /** One upsert commit: the keys deleted and written again. */
  upsert(keys: readonly bigint[]): void {
    const sequence = ++this.sequence;
    if (keys.length === 0) return;
    this.add('deletes', keys, sequence);
    this.add('data', keys, sequence);
  }

  readKeys: KeyColumnReader = (entry, fields) => {
    this.reads.push(entry.dataFile.filePath);
    expect(fields.map((f) => f.id)).toEqual([1]);
    return Promise.resolve(this.keysOf.get(entry.dataFile.filePath)!.map((k) => [k]));
  };

  /** The row ids a reader sees. */
  visible(): string[] {
    const out: string[] = [];
    for (const entry of this.data) {
      const keys = this.keysOf.get(entry.dataFile.filePath)!;
      keys.forEach((key, i) => {
        if (!this.deletedBy(key, entry.sequenceNumber!, this.deletes)) out.push(this.rowIds.get(entry.dataFile.filePath)![i]);
      });
    }
    return out.sort();
  }

  deletedBy(key: bigint, sequence: number, deletes: readonly ManifestEntry[]): boolean {
    return deletes.some((d) => d.sequenceNumber! > sequence && this.keysOf.get(d.dataFile.filePath)!.includes(key));
  }

  /** What compact() commits: the rewritten rows minus those any applied delete removes, at a new sequence number. */
  apply(plan: CompactionPlan): void {
    const sequence = ++this.sequence;
    for (const group of plan.groups) {
      const keys: bigint[] = [];
      const ids: string[] = [];
      for (const entry of group.rewrite) {
        const path = entry.dataFile.filePath;
        this.keysOf.get(path)!.forEach((key, i) => {
          const deleted = this.deletedBy(key, entry.sequenceNumber!, plan.applied);
          // The keys the plan hands to compact() remove exactly the same rows.
          expect([path, String(key), isDeleted([key, null], entry.sequenceNumber!, plan.appliedKeys!)]).toEqual([path, String(key), deleted]);
          if (deleted) return;
          keys.push(key);
          ids.push(this.rowIds.get(path)![i]);
        });
      }
      if (keys.length > 0) this.rowIds.set(this.add('data', keys, sequence).dataFile.filePath, ids);
    }
    const gone = new Set([...plan.rewrite, ...plan.deletes]);
    for (const list of [this.data, this.deletes]) list.splice(0, list.length, ...list.filter((e) => !gone.has(e)));
  }
}

function draw(random: () => number, keySpace: number, count: number, skewed: boolean): bigint[] {
  const keys = new Set<bigint>();
  while (keys.size < count) {
    const hot = skewed && random() < 0.8;
    const key = hot ? Math.floor(random() * keySpace * 0.1) : Math.floor(random() * keySpace);
    keys.add(BigInt(key));
  }
  return [...keys];
}

/** A base load in key order (narrow bounds), then upserts. */
function history(random: () => number): { model: Model; keySpace: number; skewed: boolean } {
  const model = new Model();
  const keySpace = 200 + Math.floor(random() * 800);
  const baseFiles = 2 + Math.floor(random() * 6);
  const per = Math.ceil(keySpace / baseFiles);
  model.sequence = 1;
  for (let f = 0; f < baseFiles; f++) {
    const keys = Array.from({ length: Math.min(per, keySpace - f * per) }, (_, i) => BigInt(f * per + i));
    if (keys.length > 0) model.add('data', keys, 1, random() > 0.1);
  }
  const skewed = random() < 0.5;
  const commits = 3 + Math.floor(random() * 20);
  for (let c = 0; c < commits; c++) model.upsert(draw(random, keySpace, 1 + Math.floor(random() * 30), skewed));
  return { model, keySpace, skewed };
}

describe(`compaction planning (seed ${SEED})`, () => {
  it('stays within the byte bound, rewrites only small or hit files, reclaims a delete only when nothing it applies to is left, and keeps every row', async () => {
    for (let round = 0; round < 60; round++) {
      const random = seededRandom(SEED + round);
      const { model, keySpace, skewed } = history(random);
      const target = ROW_BYTES * (50 + Math.floor(random() * 200));
      for (let run = 0; run < 4; run++) {
        const maxBytes = Math.max(target, Math.floor(random() * ROW_BYTES * keySpace));
        const before = model.visible();
        const plan = await planCompaction({ data: model.data, deletes: model.deletes }, FIELDS, { targetFileSize: target, minFiles: 2, maxBytes }, model.readKeys);
        if (plan) {
          const context = `seed ${SEED + round}, run ${run}`;
          expect([context, plan.rewrite.reduce((s, e) => s + e.dataFile.fileSizeInBytes, 0) <= maxBytes]).toEqual([context, true]);
          const small = plan.rewrite.filter((e) => e.dataFile.fileSizeInBytes < target * 0.75);
          for (const entry of plan.rewrite) {
            const hit = model.keysOf.get(entry.dataFile.filePath)!.some((key) => model.deletedBy(key, entry.sequenceNumber!, model.deletes));
            expect([context, entry.dataFile.filePath, hit || (small.includes(entry) && small.length >= 2)]).toEqual([context, entry.dataFile.filePath, true]);
          }
          const rewritten = new Set(plan.rewrite);
          for (const d of plan.deletes) {
            const keys = model.keysOf.get(d.dataFile.filePath)!;
            const stillApplies = model.data.filter(
              (e) => !rewritten.has(e) && e.sequenceNumber! < d.sequenceNumber! && model.keysOf.get(e.dataFile.filePath)!.some((k) => keys.includes(k)),
            );
            expect([context, d.dataFile.filePath, stillApplies.map((e) => e.dataFile.filePath)]).toEqual([context, d.dataFile.filePath, []]);
          }
          model.apply(plan);
          expect([context, model.visible()]).toEqual([context, before]);
        }
        model.upsert(draw(random, keySpace, 1 + Math.floor(random() * 20), skewed));
      }
    }
  });

  it('with room for the whole table, leaves no delete file and no file a delete hits', async () => {
    for (let round = 0; round < 30; round++) {
      const random = seededRandom(SEED + 1000 + round);
      const { model } = history(random);
      const plan = await planCompaction({ data: model.data, deletes: model.deletes }, FIELDS, { targetFileSize: ROW_BYTES * 100, minFiles: 2, maxBytes: 1e12 }, model.readKeys);
      const before = model.visible();
      model.apply(plan!);
      expect([SEED + 1000 + round, model.deletes.length, model.visible()]).toEqual([SEED + 1000 + round, 0, before]);
    }
  });

  it('reads the keys only of files whose bounds some newer delete overlaps; the oldest delete first, then the most deleted', async () => {
    const model = new Model();
    model.sequence = 1;
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => BigInt(from + i));
    const cold = model.add('data', range(0, 100), 1);
    const warm = model.add('data', range(100, 100), 1);
    const hot = model.add('data', range(200, 100), 1);
    // One delete reaching warm and hot (keys 150 and 250), then one within hot's range only: hot may lose more rows.
    model.upsert([150n, 250n]);
    model.upsert(range(260, 10));
    const plan = await planCompaction(
      { data: model.data, deletes: model.deletes },
      FIELDS,
      // Room for the two small upsert files (merged) and one base file.
      { targetFileSize: 1000, minFiles: 2, maxBytes: 1000 + 12 * ROW_BYTES },
      model.readKeys,
    );
    // Hot first; then no room for warm, so its keys are not even read; cold's bounds overlap no delete.
    expect(model.reads.filter((path) => path.endsWith('-data'))).toEqual([hot.dataFile.filePath]);
    expect(plan!.rewrite).toContain(hot);
    expect(plan!.rewrite).not.toContain(warm);
    expect(plan!.rewrite).not.toContain(cold);
    // The first delete still applies to warm (key 150): it stays. The second one's only target is rewritten.
    expect(plan!.deletes.map((d) => model.keysOf.get(d.dataFile.filePath)!.length)).toEqual([10]);
    expect(plan!.applied).toHaveLength(2);
  });

  it('serves the oldest delete first, whatever the row counts', async () => {
    const model = new Model();
    model.sequence = 1;
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => BigInt(from + i));
    const early = model.add('data', range(0, 100), 1);
    const late = model.add('data', range(100, 100), 1);
    model.upsert([5n]);
    model.upsert(range(120, 50));
    const plan = await planCompaction({ data: model.data, deletes: model.deletes }, FIELDS, { targetFileSize: 1000, minFiles: 2, maxBytes: 1000 + 51 * ROW_BYTES }, model.readKeys);
    expect(plan!.rewrite).toContain(early);
    expect(plan!.rewrite).not.toContain(late);
  });

  it('does nothing below the minimum file count; drops, without rewriting anything, a delete that applies to no file', async () => {
    const model = new Model();
    model.add('data', [1n, 2n], 1);
    model.add('data', [3n, 4n], 2);
    const policy = { targetFileSize: 1000, minFiles: 3, maxBytes: 1e9 };
    expect(await planCompaction({ data: model.data, deletes: [] }, FIELDS, policy, model.readKeys)).toBeUndefined();
    const big = new Model();
    big.add('data', Array.from({ length: 100 }, (_, i) => BigInt(i)), 1);
    expect(await planCompaction({ data: big.data, deletes: [] }, FIELDS, { ...policy, minFiles: 1 }, big.readKeys)).toBeUndefined();
    const stray = big.add('deletes', [500n], 2);
    const plan = await planCompaction({ data: big.data, deletes: big.deletes }, FIELDS, { ...policy, minFiles: 1 }, big.readKeys);
    expect(plan?.rewrite).toEqual([]);
    expect(plan?.deletes).toEqual([stray]);
    // Its bounds are outside the data file's: the data file's keys were never read.
    expect(big.reads).toEqual([stray.dataFile.filePath]);
  });
});
