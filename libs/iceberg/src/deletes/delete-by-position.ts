import { DataFileOptions } from '../data-files';
import { DataFile, FileContent, isDeletionVector, ManifestEntry } from '../manifest';
import { currentSchema, specById, TableMetadata } from '../metadata';
import { bindSpec, partitionKey, partitionPath } from '../partitioning/partition-spec';
import { ObjectStore } from '../storage/object-store';
import { PositionDeleteIndex, writeDeletionVectors, writePositionDeleteFile } from './position-deletes';

/** A live data file the caller means to delete rows of is not in the table: its key index is behind or ahead of it. */
export class UnknownDataFileError extends Error {
  constructor(readonly path: string) {
    super(`a position delete names ${path}, which is not a live data file of the table`);
    this.name = new.target.name;
  }
}

/** What deleting rows by position adds to a commit, and the vectors it replaces. */
export interface PositionDeleteWrite {
  readonly deleteFiles: DataFile[];
  readonly removedEntries: Array<{ readonly filePath: string; readonly referencedDataFile: string }>;
}

/**
 * The delete files that remove `hits` (row positions by data file path) from the table's live
 * `data`. A v3 table gets one Puffin file with a deletion vector per hit file, each holding every
 * position deleted in that file so far (its live vector and any position delete file of it merged
 * in) and replacing its previous vector (spec: at most one live vector per data file). A v2 table
 * gets a position delete file per partition (spec: a position delete applies only to files of its
 * partition), rows sorted by path and position.
 */
export async function deleteByPosition(
  store: ObjectStore,
  metadata: TableMetadata,
  live: { readonly data: readonly ManifestEntry[]; readonly deletes: readonly ManifestEntry[] },
  hits: ReadonlyMap<string, readonly number[]>,
  options: Omit<DataFileOptions, 'sort' | 'partition'> = {},
): Promise<PositionDeleteWrite> {
  if (hits.size === 0) return { deleteFiles: [], removedEntries: [] };
  const byPath = new Map(live.data.map((e) => [e.dataFile.filePath, e] as const));
  const targets = [...hits.keys()].map((path) => {
    const entry = byPath.get(path);
    if (!entry) throw new UnknownDataFileError(path);
    return entry;
  });
  if (metadata['format-version'] < 3) return { deleteFiles: await writePositionDeletes(store, metadata, targets.map((e) => ({ dataFile: e.dataFile, positions: hits.get(e.dataFile.filePath)! })), options), removedEntries: [] };
  const paths = new Set(targets.map((e) => e.dataFile.filePath));
  // Only what names a hit file is read: its vector, and position delete files that may name it.
  const relevant = live.deletes.filter((e) => e.dataFile.content === FileContent.PositionDeletes && (e.dataFile.reference?.referencedDataFile === undefined || paths.has(e.dataFile.reference.referencedDataFile)));
  const previous = await PositionDeleteIndex.read(store, relevant);
  const merged = targets.map((entry) => {
    const positions = new Set(previous.deletedIn(entry) ?? []);
    for (const p of hits.get(entry.dataFile.filePath)!) positions.add(p);
    return { dataFile: entry.dataFile, positions: [...positions] };
  });
  const removedEntries = relevant
    .filter((e) => isDeletionVector(e.dataFile) && paths.has(e.dataFile.reference!.referencedDataFile!))
    .map((e) => ({ filePath: e.dataFile.filePath, referencedDataFile: e.dataFile.reference!.referencedDataFile! }));
  return { deleteFiles: await writePositionDeletes(store, metadata, merged, options), removedEntries };
}

/**
 * Delete files for the given positions of each data file, nothing merged: deletion vectors (v3;
 * each must then hold all the file's deleted positions) or a position delete file per partition
 * (v2; a position delete applies only to files of its partition), rows sorted by path and position.
 */
export async function writePositionDeletes(
  store: ObjectStore,
  metadata: TableMetadata,
  targets: ReadonlyArray<{ readonly dataFile: DataFile; readonly positions: readonly number[] }>,
  options: Omit<DataFileOptions, 'sort' | 'partition'> = {},
): Promise<DataFile[]> {
  if (targets.length === 0) return [];
  if (metadata['format-version'] >= 3) return writeDeletionVectors(store, metadata.location, targets);
  const groups = new Map<string, { file: DataFile; deletes: Array<{ filePath: string; position: number }> }>();
  for (const { dataFile, positions } of targets) {
    const group = `${dataFile.specId ?? 0}/${partitionKey(dataFile.partition ?? [])}`;
    let found = groups.get(group);
    if (!found) groups.set(group, (found = { file: dataFile, deletes: [] }));
    for (const position of positions) found.deletes.push({ filePath: dataFile.filePath, position });
  }
  const schema = currentSchema(metadata);
  const files: DataFile[] = [];
  for (const { file, deletes } of groups.values()) {
    const specId = file.specId ?? 0;
    const tuple = file.partition ?? [];
    files.push(await writePositionDeleteFile(store, metadata.location, schema, deletes, { ...options, partition: { specId, tuple, path: tuple.length > 0 ? folderOf(metadata, specId, tuple) : '' } }));
  }
  return files;
}

/** The partition's folder; a spec whose source column left the schema cannot name it, and its deletes go by spec number. */
function folderOf(metadata: TableMetadata, specId: number, tuple: NonNullable<DataFile['partition']>): string {
  try {
    return partitionPath(bindSpec(specById(metadata, specId), currentSchema(metadata)), tuple);
  } catch {
    return `spec=${specId}`;
  }
}
