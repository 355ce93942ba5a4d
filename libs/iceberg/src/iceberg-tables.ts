import { randomUUID } from 'node:crypto';
import { Catalog, CommitUnit, TableIdentifier } from './catalog/catalog';
import { parseIcebergJson, stringifyIcebergJson } from './json';
import { assignFirstRowIds, DataFile, entryIdentity, EntryStatus, FileContent, isDeletionVector, ManifestEntry, ManifestFile, readManifest, readManifestList, writeManifest, writeManifestList } from './manifest';
import {
  currentSchema,
  currentSnapshot,
  defaultSpec,
  FormatVersion,
  metadataVersion,
  newSnapshotId,
  newTableMetadata,
  nextMetadataPath,
  Snapshot,
  SnapshotId,
  specById,
  withPartitioning,
  SnapshotOperation,
  TableMetadata,
  withSchema,
  tracksRowLineage,
  withFormatVersion,
  withoutSnapshots,
  withSnapshot,
} from './metadata';
import { isSpent, manifestMergePolicy, manifestsToMerge, mergedEntries } from './manifest-carry';
import { bindSpec, BoundPartitionField, PartitionFieldRequest, PartitionSpec } from './partitioning/partition-spec';
import { DataFileOptions, writePartitionedFiles } from './data-files';
import { IcebergSchema, NestedField } from './schema';
import { SortField, withSortOrder } from './sort-order';
import { sameProperties } from './write-properties';
import { bySpecAndContent, snapshotSummary, summarise } from './snapshot-summary';
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
  /**
   * Remove these entries: a file by path, or one deletion vector of a Puffin file by path and the
   * data file it refers to (the file's other vectors stay), as when a file's vector is replaced.
   */
  readonly removedEntries?: ReadonlyArray<{ readonly filePath: string; readonly referencedDataFile?: string }>;
  /** Made current before the snapshot; field ids already assigned. */
  readonly schema?: Omit<IcebergSchema, 'schema-id'>;
  /**
   * The partitioning from this commit on (after `schema`): a new default spec when it differs from
   * the current one (see withPartitioning). The added files must be written with that spec.
   */
  readonly partitioning?: readonly PartitionFieldRequest[];
  /** Extra summary keys, such as philotes.source-lsn. */
  readonly summary?: Readonly<Record<string, string>>;
  /**
   * The data sequence number of the added data files, when not this snapshot's: a compaction
   * planned at an earlier snapshot gives its files that snapshot's number, so equality deletes
   * committed while it rewrote still apply to the rows it rewrote (spec, "Sequence Numbers"; Java's
   * RewriteFiles with a data sequence number). ADDED entries then carry it explicitly.
   */
  readonly dataSequenceNumber?: number;
  /** The table's properties from this commit on (all of them, replacing the recorded ones). */
  readonly properties?: Readonly<Record<string, string>>;
  /** The default sort order from this commit on (see {@link withSortOrder}); the added data files carry its id. */
  readonly sortOrder?: readonly SortField[];
  /** Upgrades the table to this format version first (never down, see {@link withFormatVersion}). */
  readonly formatVersion?: FormatVersion;
}

/**
 * The metadata a change makes before its snapshot: schema, partition spec, properties and sort
 * order. Pure, so a writer learns the spec and sort order id its files must carry before it
 * writes them (writeChangeFiles and prepare build on the same result).
 */
export function metadataChangedBy(metadata: TableMetadata, change: Pick<TableChange, 'schema' | 'properties' | 'sortOrder' | 'partitioning' | 'formatVersion'>, now = Date.now()): TableMetadata {
  let next = change.formatVersion ? withFormatVersion(metadata, change.formatVersion, now) : metadata;
  if (change.schema) next = withSchema(next, change.schema, now);
  // After the schema: a new spec binds to the fields the change makes current.
  if (change.partitioning) next = withPartitioning(next, change.partitioning);
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

/**
 * Equality deletes cannot be written in a spec that partitions on a column they do not carry:
 * the partition of the row a delete removes is unknown. Raised before any file is written.
 */
export class UnplaceableDeletesError extends Error {
  constructor(
    readonly specId: number,
    readonly column: string,
  ) {
    super(`equality deletes must also go into partition spec ${specId}, which still holds data files and partitions on column ${column}, which the deletes do not carry (not a key column)`);
    this.name = new.target.name;
  }
}

function assertPlaceable(spec: PartitionSpec, schema: IcebergSchema, fields: readonly NestedField[]): void {
  for (const field of spec.fields) {
    if (field.transform === 'void' || fields.some((f) => f.id === field['source-id'])) continue;
    throw new UnplaceableDeletesError(spec['spec-id'], schema.fields.find((f) => f.id === field['source-id'])?.name ?? `#${field['source-id']}`);
  }
}

/** The live files of a snapshot, by content. */
export interface LiveFiles {
  readonly data: ManifestEntry[];
  readonly deletes: ManifestEntry[];
}

/**
 * Creating tables and committing snapshots, format v2 or v3 (with row lineage), with the
 * manifest and metadata files the spec describes. A commit is prepared (files written) outside any transaction, then published
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
  async create(id: TableIdentifier, schema: IcebergSchema, properties: Record<string, string>, partitioning: readonly PartitionFieldRequest[] = [], formatVersion: FormatVersion = 2): Promise<LoadedTable> {
    const tableUuid = randomUUID();
    const location = this.location(id, tableUuid);
    const metadata = newTableMetadata(location, schema, properties, Date.now(), tableUuid, partitioning, formatVersion);
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
    // Spec: deletion vectors are v3's; v3 tables take no new position delete files.
    for (const file of change.addedDeleteFiles) {
      if (file.content !== FileContent.PositionDeletes) continue;
      const vector = isDeletionVector(file);
      if (vector && metadata['format-version'] < 3) throw new Error(`deletion vector in ${file.filePath}: a format version ${metadata['format-version']} table cannot hold deletion vectors`);
      if (!vector && metadata['format-version'] >= 3) throw new Error(`position delete file ${file.filePath}: a format version 3 table takes deletion vectors, not new position delete files`);
    }
    const parent = currentSnapshot(metadata);
    const sequenceNumber = metadata['last-sequence-number'] + 1;
    const snapshotId = newSnapshotId();
    const schema = currentSchema(metadata);
    const formatVersion = metadata['format-version'];
    const location = metadata.location;
    const written: string[] = [];
    const put = async (path: string, bytes: Uint8Array) => {
      await this.store.put(path, bytes);
      written.push(path);
    };
    const manifestPath = (suffix: string) => `${location}/metadata/${randomUUID()}-${suffix}.avro`;
    const bound = new Map<number, BoundPartitionField[]>();
    const boundSpec = (specId: number) => {
      let fields = bound.get(specId);
      if (!fields) bound.set(specId, (fields = bindSpec(specById(metadata, specId), schema)));
      return fields;
    };
    /** One manifest per (content, spec): a manifest's files share its spec (spec, Manifests). */
    const writeManifestOf = async (kind: string, content: 0 | 1, specId: number, entries: readonly ManifestEntry[], as: 'added' | 'existing' | 'deleted') => {
      const path = manifestPath(kind);
      const bytes = writeManifest(entries, schema, content === 0 ? 'data' : 'deletes', specById(metadata, specId), formatVersion);
      await put(path, bytes);
      return summarise(path, bytes.length, content, entries, snapshotId, sequenceNumber, as, specId, boundSpec(specId));
    };

    const byEntry = new Set((change.removedEntries ?? []).map((r) => entryIdentity(r.filePath, r.referencedDataFile)));
    const removedEntry = (e: ManifestEntry) => byEntry.size > 0 && (byEntry.has(entryIdentity(e.dataFile.filePath)) || byEntry.has(entryIdentity(e.dataFile.filePath, e.dataFile.reference?.referencedDataFile)));
    const carried: ManifestFile[] = [];
    const removed: ManifestEntry[] = [];
    if (parent) {
      const listed = readManifestList(await this.store.get(parent['manifest-list']));
      for (const manifest of listed) {
        // DELETED entries only: they matter to the snapshot that removed the files, not to this one.
        if (isSpent(manifest)) continue;
        if (!change.removeAllFiles && !change.removedFiles?.size && !change.removedEntries?.length) {
          carried.push(manifest);
          continue;
        }
        const entries = (await this.readManifestEntries(manifest)).filter((e) => e.status !== EntryStatus.Deleted);
        const gone = entries.filter((e) => change.removeAllFiles || change.removedFiles?.has(e.dataFile.filePath) || removedEntry(e));
        if (gone.length === 0) {
          carried.push(manifest);
          continue;
        }
        removed.push(...gone);
        const kept = entries.filter((e) => !gone.includes(e));
        if (kept.length > 0) {
          // Rewritten with explicit sequence numbers: EXISTING entries must carry them (spec).
          const existing = kept.map((e) => ({ ...e, status: EntryStatus.Existing }));
          carried.push(await writeManifestOf('m-kept', manifest.content, manifest.partitionSpecId, existing, 'existing'));
        }
      }
    }

    const fresh: ManifestFile[] = [];
    const explicit = change.dataSequenceNumber === undefined ? {} : { sequenceNumber: change.dataSequenceNumber };
    const added = [...change.addedDataFiles.map((dataFile) => ({ status: EntryStatus.Added, dataFile, ...explicit })), ...change.addedDeleteFiles.map((dataFile) => ({ status: EntryStatus.Added, dataFile }))];
    for (const group of bySpecAndContent(added)) fresh.push(await writeManifestOf(group.content === 0 ? 'm-data' : 'm-deletes', group.content, group.specId, group.entries, 'added'));
    // The removed files, as DELETED entries, for engines that read a table's changes incrementally.
    const gone = removed.map((e) => ({ ...e, status: EntryStatus.Deleted, snapshotId }));
    for (const group of bySpecAndContent(gone)) fresh.push(await writeManifestOf('m-removed', group.content, group.specId, group.entries, 'deleted'));

    // Many small manifests make every reader open many files: past the count, small ones (of one
    // content and spec) are merged.
    for (const bin of manifestsToMerge(carried, fresh, manifestMergePolicy(metadata))) {
      const entries = mergedEntries((await Promise.all(bin.map((m) => this.readManifestEntries(m)))).flat());
      carried.splice(0, carried.length, ...carried.filter((m) => !bin.includes(m)));
      if (entries.length === 0) continue;
      carried.push(await writeManifestOf('m-merged', bin[0].content, bin[0].partitionSpecId, entries, 'existing'));
    }

    // v3: the snapshot's row ids start at the table's next-row-id as this attempt sees it (spec,
    // Snapshot Row IDs); a commit that loses the swap is prepared again on the new base.
    const firstRowId = tracksRowLineage(metadata) ? (metadata['next-row-id'] ?? 0) : undefined;
    const lineage = firstRowId === undefined ? undefined : assignFirstRowIds([...fresh, ...carried], firstRowId);
    const manifestList = `${location}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`;
    await put(manifestList, writeManifestList(lineage?.manifests ?? [...fresh, ...carried], { snapshotId, parentSnapshotId: parent?.['snapshot-id'], sequenceNumber, firstRowId }, formatVersion));
    hooks.afterManifests?.();

    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': Date.now(),
      'manifest-list': manifestList,
      summary: { operation: change.operation, ...snapshotSummary(parent, change, removed), ...change.summary },
      'schema-id': metadata['current-schema-id'],
      ...(lineage ? { 'first-row-id': firstRowId, 'added-rows': lineage.assigned } : {}),
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

  /**
   * Writes rows as files for `change` (before it is prepared): in the spec the change makes
   * default over the schema it makes current, one file per partition. Equality deletes go into
   * that spec and into every older spec that still has live data files: a delete applies only to
   * data files of its own spec and partition (spec, Scan Planning), and for an upsert table its
   * key determines the partition in each spec (every spec partitions on key columns).
   */
  async writeChangeFiles(
    base: LoadedTable,
    change: Pick<TableChange, 'schema' | 'partitioning'>,
    content: FileContent,
    fields: readonly NestedField[],
    rows: readonly unknown[][],
    equalityIds?: readonly number[],
    options: Omit<DataFileOptions, 'partition'> = {},
  ): Promise<DataFile[]> {
    if (rows.length === 0) return [];
    const target = metadataChangedBy(base.metadata, change);
    const specs = [defaultSpec(target)];
    if (content === FileContent.EqualityDeletes) {
      for (const specId of await this.liveDataSpecIds(base.metadata)) if (specId !== specs[0]['spec-id']) specs.push(specById(target, specId));
    }
    if (content === FileContent.EqualityDeletes) for (const spec of specs) assertPlaceable(spec, currentSchema(target), fields);
    const files: DataFile[] = [];
    for (const spec of specs) files.push(...(await writePartitionedFiles(this.store, target.location, currentSchema(target), spec, fields, rows, content, equalityIds, options)));
    return files;
  }

  /**
   * The specs live data files of the current snapshot were written with, from the manifest list
   * alone (a manifest's files share its spec). An equality delete applies only to data files of
   * its own spec and partition (or everywhere when its spec is unpartitioned), so after a spec
   * change a delete must also be written in each older spec that still has data.
   */
  async liveDataSpecIds(metadata: TableMetadata): Promise<Set<number>> {
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) return new Set();
    if (metadata['partition-specs'].length === 1) return new Set([metadata['partition-specs'][0]['spec-id']]);
    const listed = readManifestList(await this.store.get(snapshot['manifest-list']));
    return new Set(listed.filter((m) => m.content === 0 && m.addedFilesCount + m.existingFilesCount > 0).map((m) => m.partitionSpecId));
  }

  private async readManifestEntries(manifest: ManifestFile): Promise<ManifestEntry[]> {
    return readManifest(await this.store.get(manifest.path), manifest);
  }
}

