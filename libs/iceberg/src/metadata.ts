import { randomBytes, randomUUID } from 'node:crypto';
import { PartitionFieldRequest, PartitionSpec, sameFields, specFields, UNPARTITIONED } from './partitioning/partition-spec';
import { parseTransform } from './partitioning/transforms';
import { IcebergSchema, maxFieldId } from './schema';

/** Snapshot ids from Java engines are 63-bit and arrive as bigint; ours stay below 2^53. */
export type SnapshotId = number | bigint;

export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

export interface Snapshot {
  readonly 'snapshot-id': SnapshotId;
  readonly 'parent-snapshot-id'?: SnapshotId;
  readonly 'sequence-number': number;
  readonly 'timestamp-ms': number;
  readonly 'manifest-list': string;
  readonly summary: Readonly<Record<string, string>> & { readonly operation: SnapshotOperation };
  readonly 'schema-id'?: number;
  /** v3: the table's next-row-id when this snapshot was committed; its manifests' row ids start here. */
  readonly 'first-row-id'?: number;
  /** v3: how many row ids the snapshot assigned (next-row-id grows by this much). */
  readonly 'added-rows'?: number;
}

/** The format versions Philotes writes: 2, and 3 with row lineage. */
export type FormatVersion = 2 | 3;

/** Table metadata, format version 2 or 3 (spec, "Table Metadata Fields"). */
export interface TableMetadata {
  readonly 'format-version': FormatVersion;
  /** v3: above every row id assigned so far (spec, Row Lineage). */
  readonly 'next-row-id'?: number;
  readonly 'table-uuid': string;
  readonly location: string;
  readonly 'last-sequence-number': number;
  readonly 'last-updated-ms': number;
  readonly 'last-column-id': number;
  readonly schemas: readonly IcebergSchema[];
  readonly 'current-schema-id': number;
  readonly 'partition-specs': readonly PartitionSpec[];
  readonly 'default-spec-id': number;
  readonly 'last-partition-id': number;
  readonly properties: Readonly<Record<string, string>>;
  /** -1 for a table without snapshots, as Java writes it for v2. */
  readonly 'current-snapshot-id': SnapshotId;
  readonly snapshots: readonly Snapshot[];
  readonly 'snapshot-log': ReadonlyArray<{ readonly 'timestamp-ms': number; readonly 'snapshot-id': SnapshotId }>;
  readonly 'metadata-log': ReadonlyArray<{ readonly 'timestamp-ms': number; readonly 'metadata-file': string }>;
  readonly 'sort-orders': ReadonlyArray<{ readonly 'order-id': number; readonly fields: readonly unknown[] }>;
  readonly 'default-sort-order-id': number;
  readonly refs: Readonly<Record<string, { readonly 'snapshot-id': SnapshotId; readonly type: 'branch' | 'tag' }>>;
}

/** How many previous metadata files the log keeps (Java's write.metadata.previous-versions-max). */
const METADATA_LOG_ENTRIES = 100;

export function newTableMetadata(
  location: string,
  schema: IcebergSchema,
  properties: Record<string, string>,
  now = Date.now(),
  tableUuid: string = randomUUID(),
  partitioning: readonly PartitionFieldRequest[] = [],
  formatVersion: FormatVersion = 2,
): TableMetadata {
  const fields = specFields({ ...schema, 'schema-id': 0 }, partitioning, [], FIRST_UNUSED_PARTITION_ID);
  return {
    'format-version': formatVersion,
    ...(formatVersion >= 3 ? { 'next-row-id': 0 } : {}),
    'table-uuid': tableUuid,
    location,
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': maxFieldId(schema),
    schemas: [{ ...schema, 'schema-id': 0 }],
    'current-schema-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields }],
    'default-spec-id': 0,
    'last-partition-id': Math.max(FIRST_UNUSED_PARTITION_ID, ...fields.map((f) => f['field-id'])),
    properties: { 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...properties },
    'current-snapshot-id': -1,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    'default-sort-order-id': 0,
    refs: {},
  };
}

// Java and PyIceberg write 999 for an unpartitioned table (PARTITION_DATA_ID_START - 1).
const FIRST_UNUSED_PARTITION_ID = 999;

export function defaultSpec(metadata: TableMetadata): PartitionSpec {
  return metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']) ?? UNPARTITIONED;
}

/** A spec's fields as requests (source and transform), as a new spec would ask for them again. */
export function partitionRequestsOf(spec: PartitionSpec): PartitionFieldRequest[] {
  return spec.fields.map((f) => ({ sourceId: f['source-id'], transform: parseTransform(f.transform) }));
}

export function specById(metadata: TableMetadata, specId: number): PartitionSpec {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!spec) throw new Error(`table metadata has no partition spec ${specId}`);
  return spec;
}

/**
 * The table partitioned by `requests` from now on (spec, Partition Evolution): the default spec
 * when it already is that; an earlier spec with the same fields made default again; else a new
 * spec with the next id, reusing the ids of fields earlier specs had. Files keep their spec.
 */
export function withPartitioning(metadata: TableMetadata, requests: readonly PartitionFieldRequest[], now = Date.now()): TableMetadata {
  const specs = metadata['partition-specs'];
  const fields = specFields(currentSchema(metadata), requests, specs, metadata['last-partition-id']);
  if (sameFields(defaultSpec(metadata).fields, fields)) return metadata;
  const earlier = specs.find((s) => sameFields(s.fields, fields));
  if (earlier) return { ...metadata, 'default-spec-id': earlier['spec-id'], 'last-updated-ms': now };
  const specId = Math.max(...specs.map((s) => s['spec-id'])) + 1;
  return {
    ...metadata,
    'partition-specs': [...specs, { 'spec-id': specId, fields }],
    'default-spec-id': specId,
    'last-partition-id': Math.max(metadata['last-partition-id'], ...fields.map((f) => f['field-id'])),
    'last-updated-ms': now,
  };
}

export function currentSchema(metadata: TableMetadata): IcebergSchema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new Error(`table metadata has no schema ${metadata['current-schema-id']}`);
  return schema;
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = metadata.refs.main?.['snapshot-id'] ?? metadata['current-snapshot-id'];
  // -1 as Java writes it for v2, null (JSON) for v3 (SPEC §Appendix F: both mean none).
  if (id === -1 || id === undefined || id === null) return undefined;
  return metadata.snapshots.find((s) => s['snapshot-id'] === id);
}

/** A new schema, made current. Field ids must already be assigned (see the writer's schema evolution). */
export function withSchema(metadata: TableMetadata, schema: Omit<IcebergSchema, 'schema-id'>, now = Date.now()): TableMetadata {
  const schemaId = Math.max(...metadata.schemas.map((s) => s['schema-id'])) + 1;
  return {
    ...metadata,
    schemas: [...metadata.schemas, { ...schema, 'schema-id': schemaId }],
    'current-schema-id': schemaId,
    'last-column-id': Math.max(metadata['last-column-id'], maxFieldId({ ...schema, 'schema-id': schemaId })),
    'last-updated-ms': now,
  };
}

/**
 * The table upgraded to `version` (spec, Row Lineage for Upgraded Tables: next-row-id starts at 0,
 * earlier snapshots keep no row ids). A table is never downgraded: a lower version changes nothing.
 */
export function withFormatVersion(metadata: TableMetadata, version: FormatVersion, now = Date.now()): TableMetadata {
  if (version <= metadata['format-version']) return metadata;
  return { ...metadata, 'format-version': version, 'next-row-id': metadata['next-row-id'] ?? 0, 'last-updated-ms': Math.max(now, metadata['last-updated-ms']) };
}

/** Whether the table tracks row lineage (format version 3 and later). */
export function tracksRowLineage(metadata: Pick<TableMetadata, 'format-version'>): boolean {
  return metadata['format-version'] >= 3;
}

/**
 * `snapshot` committed on the main branch; `previousFile` is the metadata file it replaces. In v3
 * the table's next-row-id moves past the ids the snapshot assigned.
 */
export function withSnapshot(metadata: TableMetadata, snapshot: Snapshot, previousFile: string | undefined): TableMetadata {
  const now = Math.max(snapshot['timestamp-ms'], metadata['last-updated-ms']);
  return {
    ...metadata,
    ...(tracksRowLineage(metadata) ? { 'next-row-id': (metadata['next-row-id'] ?? 0) + (snapshot['added-rows'] ?? 0) } : {}),
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': now,
    'current-snapshot-id': snapshot['snapshot-id'],
    snapshots: [...metadata.snapshots, snapshot],
    'snapshot-log': [...metadata['snapshot-log'], { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] }],
    'metadata-log': previousFile
      ? [...metadata['metadata-log'], { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': previousFile }].slice(-METADATA_LOG_ENTRIES)
      : metadata['metadata-log'],
    refs: { ...metadata.refs, main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
  };
}

/** The metadata without the given snapshots (snapshot expiry); the current one is never removed. */
export function withoutSnapshots(metadata: TableMetadata, expired: ReadonlySet<SnapshotId>, previousFile: string, now = Date.now()): TableMetadata {
  const current = currentSnapshot(metadata)?.['snapshot-id'];
  const keep = (id: SnapshotId) => id === current || !expired.has(id);
  return {
    ...metadata,
    'last-updated-ms': Math.max(now, metadata['last-updated-ms']),
    snapshots: metadata.snapshots.filter((s) => keep(s['snapshot-id'])),
    'snapshot-log': metadata['snapshot-log'].filter((entry) => keep(entry['snapshot-id'])),
    'metadata-log': [...metadata['metadata-log'], { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': previousFile }].slice(-METADATA_LOG_ENTRIES),
  };
}

/** A positive snapshot id below 2^53 (spec: positive and random; JavaScript numbers stay exact). */
export function newSnapshotId(): number {
  return Number(randomBytes(8).readBigUInt64BE(0) & 0x1fffffffffffffn) || 1;
}

/** `<location>/metadata/00005-<uuid>.metadata.json`, the version following `previous` (if any). */
export function nextMetadataPath(location: string, previous: string | undefined): string {
  const version = previous ? metadataVersion(previous) + 1 : 0;
  return `${location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}

export function metadataVersion(path: string): number {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const match = /^(\d+)-.*\.metadata\.json$/.exec(name) ?? /^v(\d+)\.metadata\.json$/.exec(name);
  return match ? Number(match[1]) : 0;
}
