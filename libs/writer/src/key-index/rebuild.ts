import { deletedKeys, deleteScope, FileContent, CommitUnit, IcebergTables, isDeleted, NestedField, PositionDeleteIndex, readRows, sequenceOf, SnapshotId, TableMetadata, unpartitionedSpecIds } from '@philotes/iceberg';
import { KeyIndex, KeyLocation, keyName, rowIndexKey } from './key-index';

/** A live key where a snapshot holds it. */
export interface KeyPlacement extends KeyLocation {
  readonly key: Uint8Array;
}

/**
 * Every live key of a snapshot and where it is — the table's own files read, every kind of delete
 * applied — one data file at a time: what rebuilds a missing or suspect index. Memory holds one
 * file's keys: a key held twice within a file is reported by `onDuplicate`; across files (a table
 * another engine wrote without deletes) the index tells, holding it once (see rebuildKeyIndex).
 */
export async function* liveKeyPlacements(
  tables: IcebergTables,
  metadata: TableMetadata,
  snapshotId: SnapshotId,
  keyFields: readonly NestedField[],
  onDuplicate: (key: Uint8Array) => void = () => undefined,
): AsyncGenerator<KeyPlacement> {
  const live = await tables.liveFiles(metadata, snapshotId);
  const unpartitioned = unpartitionedSpecIds(metadata['partition-specs']);
  const equality = await deletedKeys(tables.store, keyFields, live.deletes.filter((e) => e.dataFile.content === FileContent.EqualityDeletes), unpartitioned);
  const positions = await PositionDeleteIndex.read(tables.store, live.deletes);
  const indexes = keyFields.map((_, i) => i);
  for (const entry of live.data) {
    const removed = positions.deletedIn(entry);
    const rows = readRows(await tables.store.get(entry.dataFile.filePath), keyFields);
    const seen = new Set<string>();
    for (let position = 0; position < rows.length; position++) {
      if (removed?.has(position) || (equality.length > 0 && isDeleted(rows[position], sequenceOf(entry), equality, deleteScope(entry, unpartitioned)))) continue;
      const key = rowIndexKey(rows[position], indexes);
      const name = keyName(key);
      if (seen.has(name)) onDuplicate(key);
      seen.add(name);
      yield { key, path: entry.dataFile.filePath, position };
    }
  }
}

/** What `verify` finds comparing an index with the table's files. */
export interface KeyIndexDifference {
  /** Live keys the index lacks or places elsewhere, and keys it holds that no file does. */
  readonly missing: number;
  readonly misplaced: number;
  readonly extra: number;
}

/** The index of `tableId` against the placements the files give (see {@link liveKeyPlacements}). */
export async function compareKeyIndex(index: KeyIndex, tableId: number, placements: AsyncIterable<KeyPlacement>, batch = 10_000): Promise<KeyIndexDifference> {
  let missing = 0;
  let misplaced = 0;
  let live = 0;
  let pending: KeyPlacement[] = [];
  const check = async () => {
    const found = await index.lookup(tableId, pending.map((p) => p.key));
    for (const p of pending) {
      const at = found.get(keyName(p.key));
      if (!at) missing++;
      else if (at.path !== p.path || at.position !== p.position) misplaced++;
    }
    live += pending.length - pending.filter((p) => !found.has(keyName(p.key))).length;
    pending = [];
  };
  for await (const placement of placements) {
    pending.push(placement);
    if (pending.length >= batch) await check();
  }
  await check();
  return { missing, misplaced, extra: (await index.size(tableId)) - live };
}

/**
 * Replaces the table's index with the one its current snapshot's files give, inside `unit` (so
 * with the position check of the caller's transaction): the keys are placed a chunk at a time,
 * never all in memory. Returns how many keys it placed and how many a file held twice.
 */
export async function rebuildKeyIndex(
  index: KeyIndex,
  tables: IcebergTables,
  metadata: TableMetadata,
  keyFields: readonly NestedField[],
  tableId: number,
  unit: CommitUnit,
  chunk = 50_000,
): Promise<{ readonly keys: number; readonly duplicates: number }> {
  await index.apply(tableId, { cleared: true }, unit);
  let keys = 0;
  // Within a file; across files, the caller compares `keys` with the index's size once committed.
  let duplicates = 0;
  if (snapshotOf(metadata) !== NO_SNAPSHOT) {
    let pending: KeyPlacement[] = [];
    for await (const placement of liveKeyPlacements(tables, metadata, metadata['current-snapshot-id'], keyFields, () => duplicates++)) {
      pending.push(placement);
      keys++;
      if (pending.length < chunk) continue;
      await index.apply(tableId, { placed: pending }, unit);
      pending = [];
    }
    if (pending.length > 0) await index.apply(tableId, { placed: pending }, unit);
  }
  await index.apply(tableId, { snapshotId: snapshotOf(metadata) }, unit);
  return { keys, duplicates };
}

/** A table without snapshots, as its metadata names it. */
const NO_SNAPSHOT = '-1';

/** The snapshot an index of `metadata` describes, as KeyIndexChange.snapshotId names it. */
export function snapshotOf(metadata: TableMetadata): string {
  return String(metadata['current-snapshot-id'] ?? NO_SNAPSHOT);
}
