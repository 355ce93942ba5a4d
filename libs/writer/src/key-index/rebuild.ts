import { deletedKeys, deleteScope, equalityKey, FileContent, IcebergTables, isDeleted, NestedField, PositionDeleteIndex, readRows, sequenceOf, SnapshotId, TableMetadata, unpartitionedSpecIds } from '@philotes/iceberg';
import { indexKey, KeyIndex, KeyLocation, keyName } from './key-index';

/** A live key where a snapshot holds it. */
export interface KeyPlacement extends KeyLocation {
  readonly key: Uint8Array;
}

/**
 * Every live key of a snapshot and where it is — the table's own files read, every kind of delete
 * applied — one data file at a time: what rebuilds a missing or suspect index. A key held twice
 * (a table another engine wrote without deletes) is reported by `onDuplicate` and placed last seen.
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
  const seen = new Set<string>();
  const indexes = keyFields.map((_, i) => i);
  for (const entry of live.data) {
    const removed = positions.deletedIn(entry);
    const rows = readRows(await tables.store.get(entry.dataFile.filePath), keyFields);
    for (let position = 0; position < rows.length; position++) {
      if (removed?.has(position) || (equality.length > 0 && isDeleted(rows[position], sequenceOf(entry), equality, deleteScope(entry, unpartitioned)))) continue;
      const key = indexKey(equalityKey(rows[position], indexes));
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
