import { DeleteGroup, equalityFields, equalityKey, sequenceOf } from './equality-deletes';
import { DataFile, FileContent, ManifestEntry } from './manifest';
import { compareValues, deserialize } from './parquet/bounds';
import { isList, NestedField, PrimitiveType } from './schema';
import { FILE_PATH_FIELD } from './deletes/position-deletes';

export interface CompactionPolicy {
  /** Size a rewritten file aims for; a data file under 3/4 of it counts as small. */
  readonly targetFileSize: number;
  /** Small data files plus delete files a table needs before a run looks at it. */
  readonly minFiles: number;
  /** Bytes of data files one run rewrites at most: what keeps a run, and the commit waiting on it, short. */
  readonly maxBytes: number;
}

/** Data files rewritten together into files of their own (today one group; partitions later). */
export interface CompactionGroup {
  readonly key: string;
  readonly rewrite: readonly ManifestEntry[];
}

/** The files one compaction run rewrites and the delete files it reclaims. */
export interface CompactionPlan {
  readonly groups: readonly CompactionGroup[];
  /** Every data file rewritten (the groups' files together). */
  readonly rewrite: readonly ManifestEntry[];
  /** Delete files removed: nothing they could still apply to is left once the rewrite commits. */
  readonly deletes: readonly ManifestEntry[];
  /**
   * Delete files applied to the rewritten rows: every live one newer than some rewritten file,
   * removed or staying — the rewritten files get a newer sequence number, out of a staying delete's reach.
   */
  readonly applied: readonly ManifestEntry[];
  /** The applied deletes' keys, already read while planning (compact reads them otherwise). */
  readonly appliedKeys?: readonly DeleteGroup[];
  /** Position deletes and deletion vectors naming a rewritten file: their rows are dropped from it. */
  readonly appliedPositions?: readonly ManifestEntry[];
  readonly stats: CompactionStats;
}

export interface CompactionStats {
  /** Small files chosen to merge. */
  readonly smallFiles: number;
  /** Files chosen because live deletes remove some of their rows. */
  readonly hitFiles: number;
  readonly bytes: number;
  /** Data files whose key columns were read to confirm a hit, and their size. */
  readonly filesRead: number;
  readonly bytesRead: number;
}

/** The rows of `fields` (key columns) of a data or delete file. */
export type KeyColumnReader = (entry: ManifestEntry, fields: readonly NestedField[]) => Promise<unknown[][]>;

/** Which files may be rewritten together: the partition-aware planner keys by spec and partition. */
export type GroupKey = (entry: ManifestEntry) => string;
export const singleGroup: GroupKey = () => '';

interface LiveDelete {
  readonly entry: ManifestEntry;
  readonly sequence: number;
  readonly signature: string;
  readonly keyFields: readonly NestedField[];
}

/** A data file some newer delete may hit: bounds overlap; `score` is an upper bound on its deleted rows. */
interface Candidate {
  readonly entry: ManifestEntry;
  readonly deletes: ReadonlySet<number>;
  readonly score: number;
  readonly oldestDelete: number;
}

/**
 * Chooses what a run rewrites, by worth and within `policy.maxBytes`:
 * 1. small files (under 3/4 of the target size), oldest first, packed up to the target size, where
 *    at least two merge;
 * 2. files a live position delete or deletion vector names, the oldest delete first;
 * 3. files live equality deletes hit (a delete with a higher sequence number holding one of its
 *    keys): candidates are found from the manifests' key bounds, ranked by the age of the oldest
 *    delete that may hit them, then by how many rows their deletes may remove, and confirmed by
 *    reading their key columns.
 * A delete file is reclaimed only when every older data file that may hold one of its keys is
 * rewritten here or known (bounds, or keys read) not to hold any; otherwise it stays for later runs.
 * Undefined when there is nothing worth a commit.
 */
export async function planCompaction(
  live: { readonly data: readonly ManifestEntry[]; readonly deletes: readonly ManifestEntry[] },
  fields: readonly NestedField[],
  policy: CompactionPolicy,
  readKeys: KeyColumnReader,
  groupOf: GroupKey = singleGroup,
): Promise<CompactionPlan | undefined> {
  const smallLimit = policy.targetFileSize * 0.75;
  const small = live.data.filter((e) => e.dataFile.fileSizeInBytes < smallLimit);
  if (small.length + live.deletes.length < policy.minFiles) return undefined;

  const deletes = live.deletes.filter((e) => e.dataFile.content === FileContent.EqualityDeletes).map((entry) => liveDelete(entry, fields));
  const positional = await positionalDeletes(live.deletes, readKeys);
  const chosen = new Map<ManifestEntry, string>(); // data file → group
  let budget = policy.maxBytes;
  let smallFiles = 0;

  // 1. Small files, per group, oldest first: a bin is taken whole or not at all.
  const byGroup = new Map<string, ManifestEntry[]>();
  for (const entry of small) byGroup.set(groupOf(entry), [...(byGroup.get(groupOf(entry)) ?? []), entry]);
  for (const [group, entries] of byGroup) {
    entries.sort((a, b) => sequenceOf(a) - sequenceOf(b));
    for (const bin of pack(entries, policy.targetFileSize)) {
      const bytes = sizeOf(bin);
      if (bin.length < 2 || bytes > budget) continue;
      for (const entry of bin) chosen.set(entry, group);
      smallFiles += bin.length;
      budget -= bytes;
    }
  }

  // 2. Files a position delete or deletion vector names: certain hits, no read needed; the oldest
  // delete first, as below.
  const named = live.data
    .map((entry) => ({ entry, by: positional.filter((p) => p.targets.has(entry.dataFile.filePath) && p.sequence >= sequenceOf(entry)) }))
    .filter((n) => n.by.length > 0)
    .sort((a, b) => Math.min(...a.by.map((p) => p.sequence)) - Math.min(...b.by.map((p) => p.sequence)) || sequenceOf(a.entry) - sequenceOf(b.entry));
  let hitFiles = 0;
  for (const { entry } of named) {
    if (chosen.has(entry)) {
      hitFiles++;
      continue;
    }
    if (entry.dataFile.fileSizeInBytes > budget) continue;
    chosen.set(entry, groupOf(entry));
    hitFiles++;
    budget -= entry.dataFile.fileSizeInBytes;
  }

  // 3. Files hit by equality deletes, the most promising first; each confirmed by reading its keys.
  const candidates = live.data.map((entry) => candidateOf(entry, deletes)).filter((c): c is Candidate => c !== undefined);
  // Oldest delete first: a delete file is reclaimed only once every older file it hits is rewritten,
  // so serving the oldest first bounds how long any delete lives (and what readers compare);
  // among files the same delete holds back, those losing the most rows first.
  candidates.sort((a, b) => a.oldestDelete - b.oldestDelete || b.score - a.score || sequenceOf(a.entry) - sequenceOf(b.entry));
  const index = await keyIndex(deletes, readKeys);
  /** For files read: the deletes that hit them. */
  const hits = new Map<ManifestEntry, ReadonlySet<number>>();
  let filesRead = 0;
  let bytesRead = 0;
  let wastedReads = 0;
  for (const candidate of candidates) {
    const size = candidate.entry.dataFile.fileSizeInBytes;
    if (chosen.has(candidate.entry) || size > budget) continue;
    // Reads that found nothing are bounded like the rewrite, so a run stays short whatever the bounds.
    if (wastedReads > policy.maxBytes) break;
    const hit = await hitsOf(candidate, deletes, index, readKeys);
    filesRead++;
    bytesRead += size;
    hits.set(candidate.entry, hit);
    if (hit.size === 0) {
      wastedReads += size;
      continue;
    }
    chosen.set(candidate.entry, groupOf(candidate.entry));
    hitFiles++;
    budget -= size;
  }

  // A delete file goes when no older data file it may apply to outlives this run.
  const mayApply = new Map(candidates.map((c) => [c.entry, c.deletes]));
  const reclaimed = deletes.filter((_, d) =>
    live.data.every((entry) => chosen.has(entry) || !mayApply.get(entry)?.has(d) || (hits.has(entry) && !hits.get(entry)!.has(d))),
  );
  // A position delete goes when every data file it names is rewritten here or gone.
  const livePaths = new Set(live.data.map((e) => e.dataFile.filePath));
  const chosenPaths = new Set([...chosen.keys()].map((e) => e.dataFile.filePath));
  const reclaimedPositions = positional.filter((p) => [...p.targets].every((path) => chosenPaths.has(path) || !livePaths.has(path)));
  if (chosen.size === 0 && reclaimed.length === 0 && reclaimedPositions.length === 0) return undefined;

  const rewrite = [...chosen.keys()];
  const oldestRewritten = Math.min(...rewrite.map(sequenceOf));
  const groups = new Map<string, ManifestEntry[]>();
  for (const [entry, group] of chosen) groups.set(group, [...(groups.get(group) ?? []), entry]);
  const applied = new Set(deletes.flatMap((d, i) => (d.sequence > oldestRewritten ? [i] : [])));
  return {
    groups: [...groups].map(([key, entries]) => ({ key, rewrite: entries })),
    rewrite,
    deletes: [...reclaimed.map((d) => d.entry), ...reclaimedPositions.map((p) => p.entry)],
    applied: [...applied].map((i) => deletes[i].entry),
    appliedKeys: appliedKeysOf(index, deletes, applied, fields),
    appliedPositions: positional.filter((p) => [...p.targets].some((path) => chosenPaths.has(path))).map((p) => p.entry),
    stats: { smallFiles, hitFiles, bytes: sizeOf(rewrite), filesRead, bytesRead },
  };
}

/** A live position delete file or deletion vector, with the data files it names. */
interface PositionalDelete {
  readonly entry: ManifestEntry;
  readonly sequence: number;
  readonly targets: ReadonlySet<string>;
}

/**
 * The live position deletes and the data files each names: a deletion vector's (or a position
 * delete file's) referenced data file, else the paths its file_path column holds.
 */
async function positionalDeletes(deletes: readonly ManifestEntry[], readKeys: KeyColumnReader): Promise<PositionalDelete[]> {
  const out: PositionalDelete[] = [];
  for (const entry of deletes) {
    if (entry.dataFile.content !== FileContent.PositionDeletes) continue;
    const referenced = entry.dataFile.reference?.referencedDataFile;
    const targets = referenced ? new Set([referenced]) : new Set((await readKeys(entry, [FILE_PATH_FIELD])).map((row) => row[0] as string));
    out.push({ entry, sequence: sequenceOf(entry), targets });
  }
  return out;
}

function liveDelete(entry: ManifestEntry, fields: readonly NestedField[]): LiveDelete {
  const keyFields = equalityFields(entry, fields);
  return { entry, sequence: sequenceOf(entry), signature: keyFields.map((f) => f.id).join(','), keyFields };
}

/** Consecutive runs of files whose sizes add up to at most `target` (a lone file bigger than it is a bin of its own). */
function pack(entries: readonly ManifestEntry[], target: number): ManifestEntry[][] {
  const bins: ManifestEntry[][] = [];
  let bin: ManifestEntry[] = [];
  for (const entry of entries) {
    if (bin.length > 0 && sizeOf(bin) + entry.dataFile.fileSizeInBytes > target) {
      bins.push(bin);
      bin = [];
    }
    bin.push(entry);
  }
  if (bin.length > 0) bins.push(bin);
  return bins;
}

function sizeOf(entries: readonly ManifestEntry[]): number {
  return entries.reduce((sum, e) => sum + e.dataFile.fileSizeInBytes, 0);
}

function candidateOf(entry: ManifestEntry, deletes: readonly LiveDelete[]): Candidate | undefined {
  const sequence = sequenceOf(entry);
  const may = new Set<number>();
  let rows = 0;
  let oldestDelete = Infinity;
  deletes.forEach((d, i) => {
    if (d.sequence <= sequence || !d.keyFields.every((field) => mayOverlap(field, entry.dataFile, d.entry.dataFile))) return;
    may.add(i);
    rows += d.entry.dataFile.recordCount;
    oldestDelete = Math.min(oldestDelete, d.sequence);
  });
  if (may.size === 0) return undefined;
  return { entry, deletes: may, score: Math.min(rows, entry.dataFile.recordCount), oldestDelete };
}

/**
 * Whether the two files' value ranges of the column may share a value. Without both bounds on
 * either side (or with NULLs on both, which equality deletes match) they may.
 */
function mayOverlap(field: NestedField, data: DataFile, deletes: DataFile): boolean {
  if (isList(field.type)) return true;
  if ((data.nullValueCounts.get(field.id) ?? 0) > 0 && (deletes.nullValueCounts.get(field.id) ?? 0) > 0) return true;
  const bounds = [data.lowerBounds, data.upperBounds, deletes.lowerBounds, deletes.upperBounds].map((b) => b.get(field.id));
  if (bounds.some((b) => b === undefined)) return true;
  const type = field.type as PrimitiveType;
  const [dataLow, dataHigh, deleteLow, deleteHigh] = bounds.map((b) => deserialize(type, b!));
  return compareValues(type, deleteLow, dataHigh) <= 0 && compareValues(type, dataLow, deleteHigh) <= 0;
}

/** Per key signature: each deleted key → the live delete files (by index) that hold it. */
type KeyIndex = Map<string, Map<string, number[]>>;

async function keyIndex(deletes: readonly LiveDelete[], readKeys: KeyColumnReader): Promise<KeyIndex> {
  const index: KeyIndex = new Map();
  for (const [i, d] of deletes.entries()) {
    let keys = index.get(d.signature);
    if (!keys) index.set(d.signature, (keys = new Map()));
    const positions = d.keyFields.map((_, c) => c);
    for (const row of await readKeys(d.entry, d.keyFields)) {
      const key = equalityKey(row, positions);
      const holders = keys.get(key);
      if (holders) {
        if (holders[holders.length - 1] !== i) holders.push(i);
      } else keys.set(key, [i]);
    }
  }
  return index;
}

/** The index as compact applies it: per signature, each key → the highest sequence number of an applied delete holding it. */
function appliedKeysOf(index: KeyIndex, deletes: readonly LiveDelete[], applied: ReadonlySet<number>, fields: readonly NestedField[]): DeleteGroup[] {
  const groups: DeleteGroup[] = [];
  for (const [signature, keys] of index) {
    const sample = deletes.find((d) => d.signature === signature)!;
    const highest = new Map<string, number>();
    for (const [key, holders] of keys) {
      let sequence = -1;
      for (const d of holders) if (applied.has(d)) sequence = Math.max(sequence, deletes[d].sequence);
      if (sequence >= 0) highest.set(key, sequence);
    }
    if (highest.size > 0) groups.push({ indexes: sample.keyFields.map((f) => fields.indexOf(f)), keys: highest });
  }
  return groups;
}

/** The candidate's deletes that truly hit it: one of their keys is among its rows. */
async function hitsOf(candidate: Candidate, deletes: readonly LiveDelete[], index: KeyIndex, readKeys: KeyColumnReader): Promise<Set<number>> {
  const hit = new Set<number>();
  const signatures = new Map<string, readonly NestedField[]>();
  for (const d of candidate.deletes) signatures.set(deletes[d].signature, deletes[d].keyFields);
  const fields = [...new Map([...signatures.values()].flat().map((f) => [f.id, f])).values()];
  const rows = await readKeys(candidate.entry, fields);
  for (const [signature, keyFields] of signatures) {
    const keys = index.get(signature)!;
    const positions = keyFields.map((f) => fields.indexOf(f));
    for (const row of rows) {
      for (const d of keys.get(equalityKey(row, positions)) ?? []) if (candidate.deletes.has(d)) hit.add(d);
    }
  }
  return hit;
}
