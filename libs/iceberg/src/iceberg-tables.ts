import { randomUUID } from 'node:crypto';
import { Catalog, CommitUnit, TableIdentifier } from './catalog/catalog';
import { parseIcebergJson, stringifyIcebergJson } from './json';
import { DataFile, EntryStatus, FileContent, ManifestEntry, ManifestFile, readManifest, readManifestList, writeManifest, writeManifestList } from './manifest';
import {
  currentSchema,
  currentSnapshot,
  metadataVersion,
  newSnapshotId,
  newTableMetadata,
  nextMetadataPath,
  Snapshot,
  SnapshotId,
  SnapshotOperation,
  TableMetadata,
  withSchema,
  withoutSnapshots,
  withSnapshot,
} from './metadata';
import { isSpent, manifestMergePolicy, manifestsToMerge, mergedEntries } from './manifest-carry';
import { IcebergSchema } from './schema';
import { SortField, withSortOrder } from './sort-order';
import { sameProperties } from './write-properties';
import { newTableLocation } from './table-location';
import { ObjectStore } from './storage/object-store';

export interface LoadedTable {
  readonly id: TableIdentifier;
  readonly metadataLocation: string;
  readonly metadata: TableMetadata;
}

/** What one commit changes. Data and delete files are already written to the store. */
export interface TableChange {
  readonly operation: SnapshotOperation;
  readonly addedDataFiles: readonly DataFile[];
  readonly addedDeleteFiles: readonly DataFile[];
  /** Remove every live file first (a TRUNCATE). */
  readonly removeAllFiles?: boolean;
  /** Remove these files (by path), e.g. the files a compaction rewrote. */
  readonly removedFiles?: ReadonlySet<string>;
  /** Made current before the snapshot; field ids already assigned. */
  readonly schema?: Omit<IcebergSchema, 'schema-id'>;
  /** Extra summary keys, such as philotes.source-lsn. */
  readonly summary?: Readonly<Record<string, string>>;
  /** The table's properties from this commit on (all of them, replacing the recorded ones). */
  readonly properties?: Readonly<Record<string, string>>;
  /** The default sort order from this commit on (see {@link withSortOrder}); the added data files carry its id. */
  readonly sortOrder?: readonly SortField[];
}

/**
 * The metadata a change makes before its snapshot: schema, properties and sort order. Pure, so a
 * writer can learn the sort order id its files must carry before it writes them.
 */
export function metadataChangedBy(metadata: TableMetadata, change: Pick<TableChange, 'schema' | 'properties' | 'sortOrder'>, now = Date.now()): TableMetadata {
  let next = change.schema ? withSchema(metadata, change.schema, now) : metadata;
  if (change.properties && !sameProperties(change.properties, next.properties)) next = { ...next, properties: { ...change.properties }, 'last-updated-ms': Math.max(now, next['last-updated-ms']) };
  if (change.sortOrder) next = withSortOrder(next, change.sortOrder);
  return next;
}

/** A commit whose files are written; it becomes the table's state once the catalog swap succeeds. */
export interface PreparedCommit {
  readonly metadataLocation: string;
  readonly metadata: TableMetadata;
  /** Every file this commit wrote, for clean-up should it lose the swap for good. */
  readonly writtenFiles: readonly string[];
}

/** The live files of a snapshot, by content. */
export interface LiveFiles {
  readonly data: ManifestEntry[];
  readonly deletes: ManifestEntry[];
}

/**
 * Creating tables and committing snapshots, format v2, with the manifest and metadata files the
 * spec describes. A commit is prepared (files written) outside any transaction, then published
 * by a compare-and-swap in the catalog, inside the caller's unit of work where the catalog can join it.
 */
export class IcebergTables {
  constructor(
    readonly store: ObjectStore,
    readonly catalog: Catalog,
  ) {}

  /** A new table's location (see {@link newTableLocation}). */
  location(id: TableIdentifier, tableUuid: string): string {
    return newTableLocation(this.store.root, id, tableUuid);
  }

  async load(id: TableIdentifier): Promise<LoadedTable | undefined> {
    const metadataLocation = await this.catalog.load(id);
    if (!metadataLocation) return undefined;
    return { id, metadataLocation, metadata: await this.readMetadata(metadataLocation) };
  }

  async readMetadata(location: string): Promise<TableMetadata> {
    return parseIcebergJson(Buffer.from(await this.store.get(location)).toString('utf8')) as TableMetadata;
  }

  /** Creates the table, or loads it when another process created it first. */
  async create(id: TableIdentifier, schema: IcebergSchema, properties: Record<string, string>): Promise<LoadedTable> {
    const tableUuid = randomUUID();
    const location = this.location(id, tableUuid);
    const metadata = newTableMetadata(location, schema, properties, Date.now(), tableUuid);
    const metadataLocation = nextMetadataPath(location, undefined);
    await this.store.put(metadataLocation, Buffer.from(stringifyIcebergJson(metadata)));
    await this.catalog.ensureNamespace(id.namespace);
    if (await this.catalog.create(id, metadataLocation)) {
      await this.writeVersionHint(location, metadataLocation, metadata);
      return { id, metadataLocation, metadata };
    }
    await this.store.delete([metadataLocation]);
    const existing = await this.load(id);
    if (!existing) throw new Error(`table ${id.namespace}.${id.name} neither created nor found`);
    return existing;
  }

  /**
   * Writes the manifests, manifest list and metadata of a new snapshot on top of `base`.
   * `afterManifests` runs between the manifests and the metadata file (a crash point in tests).
   */
  async prepare(base: LoadedTable, change: TableChange, hooks: { readonly afterManifests?: () => void } = {}): Promise<PreparedCommit> {
    let metadata = metadataChangedBy(base.metadata, change);
    const orderIds = new Set(metadata['sort-orders'].map((o) => o['order-id']));
    const unknownOrder = change.addedDataFiles.find((f) => f.sortOrderId !== undefined && !orderIds.has(f.sortOrderId));
    if (unknownOrder) throw new Error(`data file ${unknownOrder.filePath} names sort order ${unknownOrder.sortOrderId}, which the table does not have`);
    const parent = currentSnapshot(metadata);
    const sequenceNumber = metadata['last-sequence-number'] + 1;
    const snapshotId = newSnapshotId();
    const schema = currentSchema(metadata);
    const location = metadata.location;
    const written: string[] = [];
    const put = async (path: string, bytes: Uint8Array) => {
      await this.store.put(path, bytes);
      written.push(path);
    };
    const manifestPath = (suffix: string) => `${location}/metadata/${randomUUID()}-${suffix}.avro`;

    const carried: ManifestFile[] = [];
    const removed: ManifestEntry[] = [];
    if (parent) {
      const listed = readManifestList(await this.store.get(parent['manifest-list']));
      for (const manifest of listed) {
        // DELETED entries only: they matter to the snapshot that removed the files, not to this one.
        if (isSpent(manifest)) continue;
        if (!change.removeAllFiles && !change.removedFiles?.size) {
          carried.push(manifest);
          continue;
        }
        const entries = (await this.readManifestEntries(manifest)).filter((e) => e.status !== EntryStatus.Deleted);
        const gone = entries.filter((e) => change.removeAllFiles || change.removedFiles!.has(e.dataFile.filePath));
        if (gone.length === 0) {
          carried.push(manifest);
          continue;
        }
        removed.push(...gone);
        const kept = entries.filter((e) => !gone.includes(e));
        if (kept.length > 0) {
          // Rewritten with explicit sequence numbers: EXISTING entries must carry them (spec).
          const path = manifestPath(`m-kept`);
          const bytes = writeManifest(kept.map((e) => ({ ...e, status: EntryStatus.Existing })), schema, manifest.content === 0 ? 'data' : 'deletes');
          await put(path, bytes);
          carried.push(summarise(path, bytes.length, manifest.content, kept, snapshotId, sequenceNumber, 'existing'));
        }
      }
    }

    const fresh: ManifestFile[] = [];
    const newManifest = async (content: 0 | 1, files: readonly DataFile[], kind: string) => {
      if (files.length === 0) return;
      const entries = files.map((dataFile) => ({ status: EntryStatus.Added, dataFile }));
      const path = manifestPath(kind);
      const bytes = writeManifest(entries, schema, content === 0 ? 'data' : 'deletes');
      await put(path, bytes);
      fresh.push(summarise(path, bytes.length, content, entries, snapshotId, sequenceNumber, 'added'));
    };
    await newManifest(0, change.addedDataFiles, 'm-data');
    await newManifest(1, change.addedDeleteFiles, 'm-deletes');
    // The removed files, as DELETED entries, for engines that read a table's changes incrementally;
    // one manifest per content, as a manifest holds either data or delete files.
    for (const content of [0, 1] as const) {
      const gone = removed.filter((e) => (e.dataFile.content === FileContent.Data ? 0 : 1) === content);
      if (gone.length === 0) continue;
      const path = manifestPath('m-removed');
      const bytes = writeManifest(
        gone.map((e) => ({ ...e, status: EntryStatus.Deleted, snapshotId })),
        schema,
        content === 0 ? 'data' : 'deletes',
      );
      await put(path, bytes);
      fresh.push(summarise(path, bytes.length, content, gone, snapshotId, sequenceNumber, 'deleted'));
    }

    // Many small manifests make every reader open many files: past the count, small ones are merged.
    for (const bin of manifestsToMerge(carried, fresh, manifestMergePolicy(metadata))) {
      const entries = mergedEntries((await Promise.all(bin.map((m) => this.readManifestEntries(m)))).flat());
      carried.splice(0, carried.length, ...carried.filter((m) => !bin.includes(m)));
      if (entries.length === 0) continue;
      const path = manifestPath('m-merged');
      const bytes = writeManifest(entries, schema, bin[0].content === 0 ? 'data' : 'deletes');
      await put(path, bytes);
      carried.push(summarise(path, bytes.length, bin[0].content, entries, snapshotId, sequenceNumber, 'existing'));
    }

    const manifestList = `${location}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`;
    await put(manifestList, writeManifestList([...fresh, ...carried], { snapshotId, parentSnapshotId: parent?.['snapshot-id'], sequenceNumber }));
    hooks.afterManifests?.();

    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: { operation: change.operation, ...snapshotSummary(parent, change, removed), ...change.summary },
      'schema-id': metadata['current-schema-id'],
    };
    metadata = withSnapshot(metadata, snapshot, base.metadataLocation);
    const metadataLocation = nextMetadataPath(location, base.metadataLocation);
    await put(metadataLocation, Buffer.from(stringifyIcebergJson(metadata)));
    return { metadataLocation, metadata, writtenFiles: written };
  }

  /** A commit of metadata alone: `base` without the expired snapshots (files stay until orphan clean-up). */
  async prepareExpiry(base: LoadedTable, expired: ReadonlySet<SnapshotId>): Promise<PreparedCommit> {
    const metadata = withoutSnapshots(base.metadata, expired, base.metadataLocation);
    const metadataLocation = nextMetadataPath(metadata.location, base.metadataLocation);
    await this.store.put(metadataLocation, Buffer.from(stringifyIcebergJson(metadata)));
    return { metadataLocation, metadata, writtenFiles: [metadataLocation] };
  }

  /** The catalog swap; `unit`: the transaction that also records what the commit covers, where the catalog can join it. */
  publish(base: LoadedTable, prepared: PreparedCommit, unit?: CommitUnit): Promise<boolean> {
    return this.catalog.swap(base.id, base.metadataLocation, prepared.metadataLocation, unit);
  }

  /**
   * For file-based readers (Hadoop-style): `vN.metadata.json` and `version-hint.text` naming it.
   * Written after the swap succeeded, so only the committed version N ever gets these names.
   */
  async writeVersionHint(tableLocation: string, metadataLocation: string, metadata: TableMetadata): Promise<void> {
    const version = metadataVersion(metadataLocation);
    await this.store.put(`${tableLocation}/metadata/v${version}.metadata.json`, Buffer.from(stringifyIcebergJson(metadata)));
    await this.store.put(`${tableLocation}/metadata/version-hint.text`, Buffer.from(String(version)));
  }

  /** The data and delete files of a snapshot (the current one unless named). */
  async liveFiles(metadata: TableMetadata, snapshotId?: SnapshotId): Promise<LiveFiles> {
    const snapshot = snapshotId === undefined ? currentSnapshot(metadata) : metadata.snapshots.find((s) => s['snapshot-id'] === snapshotId);
    const live: LiveFiles = { data: [], deletes: [] };
    if (!snapshot) return live;
    for (const manifest of readManifestList(await this.store.get(snapshot['manifest-list']))) {
      for (const entry of await this.readManifestEntries(manifest)) {
        if (entry.status === EntryStatus.Deleted) continue;
        (entry.dataFile.content === FileContent.Data ? live.data : live.deletes).push(entry);
      }
    }
    return live;
  }

  private async readManifestEntries(manifest: ManifestFile): Promise<ManifestEntry[]> {
    return readManifest(await this.store.get(manifest.path), manifest);
  }
}

function summarise(
  path: string,
  length: number,
  content: 0 | 1,
  entries: readonly ManifestEntry[],
  snapshotId: number,
  sequenceNumber: number,
  as: 'added' | 'existing' | 'deleted',
): ManifestFile {
  const rows = entries.reduce((sum, e) => sum + e.dataFile.recordCount, 0);
  const sequences = entries.map((e) => e.sequenceNumber ?? sequenceNumber);
  return {
    path,
    length,
    content,
    sequenceNumber,
    minSequenceNumber: as === 'added' ? sequenceNumber : Math.min(sequenceNumber, ...sequences),
    addedSnapshotId: snapshotId,
    addedFilesCount: as === 'added' ? entries.length : 0,
    existingFilesCount: as === 'existing' ? entries.length : 0,
    deletedFilesCount: as === 'deleted' ? entries.length : 0,
    addedRowsCount: as === 'added' ? rows : 0,
    existingRowsCount: as === 'existing' ? rows : 0,
    deletedRowsCount: as === 'deleted' ? rows : 0,
  };
}

/** Summary metrics (spec, Appendix F), with running totals carried from the parent. */
function snapshotSummary(parent: Snapshot | undefined, change: TableChange, removed: readonly ManifestEntry[]): Record<string, string> {
  const total = (key: string) => Number(parent?.summary[key] ?? 0);
  const sum = (files: readonly DataFile[], of: (f: DataFile) => number) => files.reduce((s, f) => s + of(f), 0);
  const removedData = removed.filter((e) => e.dataFile.content === FileContent.Data).map((e) => e.dataFile);
  const removedDeletes = removed.filter((e) => e.dataFile.content !== FileContent.Data).map((e) => e.dataFile);
  const added = {
    dataFiles: change.addedDataFiles.length,
    records: sum(change.addedDataFiles, (f) => f.recordCount),
    size: sum(change.addedDataFiles, (f) => f.fileSizeInBytes) + sum(change.addedDeleteFiles, (f) => f.fileSizeInBytes),
    deleteFiles: change.addedDeleteFiles.length,
    equalityDeletes: sum(change.addedDeleteFiles, (f) => f.recordCount),
  };
  const gone = {
    dataFiles: removedData.length,
    records: sum(removedData, (f) => f.recordCount),
    size: sum(removedData, (f) => f.fileSizeInBytes) + sum(removedDeletes, (f) => f.fileSizeInBytes),
    deleteFiles: removedDeletes.length,
    equalityDeletes: sum(removedDeletes, (f) => f.recordCount),
  };
  return {
    'added-data-files': String(added.dataFiles),
    'added-records': String(added.records),
    'added-files-size': String(added.size),
    'added-delete-files': String(added.deleteFiles),
    'added-equality-delete-files': String(added.deleteFiles),
    'added-equality-deletes': String(added.equalityDeletes),
    'deleted-data-files': String(gone.dataFiles),
    'deleted-records': String(gone.records),
    'removed-files-size': String(gone.size),
    'removed-delete-files': String(gone.deleteFiles),
    'removed-equality-deletes': String(gone.equalityDeletes),
    'total-data-files': String(total('total-data-files') + added.dataFiles - gone.dataFiles),
    'total-records': String(total('total-records') + added.records - gone.records),
    'total-files-size': String(total('total-files-size') + added.size - gone.size),
    'total-delete-files': String(total('total-delete-files') + added.deleteFiles - gone.deleteFiles),
    'total-position-deletes': '0',
    'total-equality-deletes': String(total('total-equality-deletes') + added.equalityDeletes - gone.equalityDeletes),
    'changed-partition-count': change.addedDataFiles.length + change.addedDeleteFiles.length + removed.length > 0 ? '1' : '0',
  };
}
