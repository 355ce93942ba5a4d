import { DataFile, EntryStatus, FileContent, isDeletionVector, ManifestEntry, ManifestFile, partitionSummaries } from './manifest';
import { Snapshot } from './metadata';
import { BoundPartitionField, partitionKey } from './partitioning/partition-spec';
import type { TableChange } from './iceberg-tables';

/**
 * What a snapshot says of itself: each manifest's entry in the manifest list (counts, sequence
 * numbers, partition summaries) and the snapshot summary's metrics (spec, Appendix F).
 */

/** A manifest's entry in the manifest list. */
export function summarise(
  path: string,
  length: number,
  content: 0 | 1,
  entries: readonly ManifestEntry[],
  snapshotId: number,
  sequenceNumber: number,
  as: 'added' | 'existing' | 'deleted',
  partitionSpecId: number,
  bound: readonly BoundPartitionField[],
): ManifestFile {
  const rows = entries.reduce((sum, e) => sum + e.dataFile.recordCount, 0);
  const sequences = entries.map((e) => e.sequenceNumber ?? sequenceNumber);
  return {
    path,
    length,
    content,
    sequenceNumber,
    // Added entries inherit the snapshot's number unless they carry one (a compaction's, older).
    minSequenceNumber: Math.min(sequenceNumber, ...sequences),
    addedSnapshotId: snapshotId,
    addedFilesCount: as === 'added' ? entries.length : 0,
    existingFilesCount: as === 'existing' ? entries.length : 0,
    deletedFilesCount: as === 'deleted' ? entries.length : 0,
    addedRowsCount: as === 'added' ? rows : 0,
    existingRowsCount: as === 'existing' ? rows : 0,
    deletedRowsCount: as === 'deleted' ? rows : 0,
    partitionSpecId,
    partitions: partitionSummaries(
      bound,
      entries.map((e) => e.dataFile.partition),
    ),
    rowsWithoutId: entries.filter((e) => e.status !== EntryStatus.Deleted && e.dataFile.content === FileContent.Data && e.dataFile.firstRowId === undefined).reduce((sum, e) => sum + e.dataFile.recordCount, 0),
  };
}

/** Entries grouped by manifest content (data, deletes) and spec id, in first-seen order. */
export function bySpecAndContent(entries: readonly ManifestEntry[]): Array<{ content: 0 | 1; specId: number; entries: ManifestEntry[] }> {
  const groups = new Map<string, { content: 0 | 1; specId: number; entries: ManifestEntry[] }>();
  for (const entry of entries) {
    const content = entry.dataFile.content === FileContent.Data ? 0 : 1;
    const specId = entry.dataFile.specId ?? 0;
    const key = `${content}/${specId}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { content, specId, entries: [] }));
    group.entries.push(entry);
  }
  return [...groups.values()];
}

/** Distinct (spec, partition) pairs among files: the summary's changed-partition-count. */
function partitionCount(files: readonly DataFile[]): number {
  return new Set(files.map((f) => `${f.specId ?? 0}/${partitionKey(f.partition ?? [])}`)).size;
}

/** Summary metrics (spec, Appendix F), with running totals carried from the parent. */
export function snapshotSummary(parent: Snapshot | undefined, change: TableChange, removed: readonly ManifestEntry[]): Record<string, string> {
  const total = (key: string) => Number(parent?.summary[key] ?? 0);
  const removedData = removed.filter((e) => e.dataFile.content === FileContent.Data).map((e) => e.dataFile);
  const removedDeletes = removed.filter((e) => e.dataFile.content !== FileContent.Data).map((e) => e.dataFile);
  const added = { ...dataCounts(change.addedDataFiles), ...deleteCounts(change.addedDeleteFiles) };
  const gone = { ...dataCounts(removedData), ...deleteCounts(removedDeletes) };
  return {
    'added-data-files': String(added.dataFiles),
    'added-records': String(added.records),
    'added-files-size': String(added.dataSize + added.deleteSize),
    'added-delete-files': String(added.deleteFiles),
    'added-equality-delete-files': String(added.equalityFiles),
    'added-position-delete-files': String(added.positionFiles),
    'added-dvs': String(added.vectors),
    'added-equality-deletes': String(added.equalityDeletes),
    'added-position-deletes': String(added.positionDeletes),
    'deleted-data-files': String(gone.dataFiles),
    'deleted-records': String(gone.records),
    'removed-files-size': String(gone.dataSize + gone.deleteSize),
    'removed-delete-files': String(gone.deleteFiles),
    'removed-equality-delete-files': String(gone.equalityFiles),
    'removed-position-delete-files': String(gone.positionFiles),
    'removed-dvs': String(gone.vectors),
    'removed-equality-deletes': String(gone.equalityDeletes),
    'removed-position-deletes': String(gone.positionDeletes),
    'total-data-files': String(total('total-data-files') + added.dataFiles - gone.dataFiles),
    'total-records': String(total('total-records') + added.records - gone.records),
    'total-files-size': String(total('total-files-size') + added.dataSize + added.deleteSize - gone.dataSize - gone.deleteSize),
    'total-delete-files': String(total('total-delete-files') + added.deleteFiles - gone.deleteFiles),
    'total-position-deletes': String(total('total-position-deletes') + added.positionDeletes - gone.positionDeletes),
    'total-equality-deletes': String(total('total-equality-deletes') + added.equalityDeletes - gone.equalityDeletes),
    'changed-partition-count': String(partitionCount([...change.addedDataFiles, ...change.addedDeleteFiles, ...removed.map((e) => e.dataFile)])),
  };
}

const sumOf = (files: readonly DataFile[], of: (f: DataFile) => number) => files.reduce((s, f) => s + of(f), 0);

function dataCounts(files: readonly DataFile[]) {
  return { dataFiles: files.length, records: sumOf(files, (f) => f.recordCount), dataSize: sumOf(files, (f) => f.fileSizeInBytes) };
}

/** A deletion vector is counted as a delete file of its blob's size (as Java counts it: one Puffin file holds many). */
function deleteCounts(files: readonly DataFile[]) {
  const equality = files.filter((f) => f.content === FileContent.EqualityDeletes);
  const position = files.filter((f) => f.content === FileContent.PositionDeletes);
  const vectors = position.filter(isDeletionVector);
  return {
    deleteFiles: files.length,
    deleteSize: sumOf(files, (f) => f.reference?.contentSizeInBytes ?? f.fileSizeInBytes),
    equalityFiles: equality.length,
    positionFiles: position.length - vectors.length,
    vectors: vectors.length,
    equalityDeletes: sumOf(equality, (f) => f.recordCount),
    positionDeletes: sumOf(position, (f) => f.recordCount),
  };
}
