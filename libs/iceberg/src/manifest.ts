import { readAvroContainer, writeAvroContainer } from './avro/container';
import { manifestEntrySchema, manifestFileSchema } from './avro/schemas';
import { stringifyIcebergJson } from './json';
import { FormatVersion, SnapshotId } from './metadata';
import { columnStats } from './parquet/bounds';
import { fromAvroPartition, partitionAvroFields, toAvroPartition } from './partitioning/partition-avro';
import { bindSpec, BoundPartitionField, PartitionSpec, PartitionTuple, UNPARTITIONED } from './partitioning/partition-spec';
import { IcebergSchema } from './schema';

export const FileContent = { Data: 0, PositionDeletes: 1, EqualityDeletes: 2 } as const;
export type FileContent = (typeof FileContent)[keyof typeof FileContent];

export const EntryStatus = { Existing: 0, Added: 1, Deleted: 2 } as const;
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];

/** A data or delete file, with the column statistics readers use to skip it. */
export interface DataFile {
  readonly content: FileContent;
  readonly filePath: string;
  readonly recordCount: number;
  readonly fileSizeInBytes: number;
  readonly columnSizes?: ReadonlyMap<number, number>;
  readonly valueCounts: ReadonlyMap<number, number>;
  readonly nullValueCounts: ReadonlyMap<number, number>;
  readonly nanValueCounts?: ReadonlyMap<number, number>;
  readonly lowerBounds: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds: ReadonlyMap<number, Uint8Array>;
  readonly splitOffsets?: readonly number[];
  /** For equality deletes: the field ids that identify a row. */
  readonly equalityIds?: readonly number[];
  /** The table sort order the rows were written in; absent for a data file means unsorted (0). */
  readonly sortOrderId?: number;
  /** The spec the file was written with (0, unpartitioned, when absent) and its partition tuple. */
  readonly specId?: number;
  readonly partition?: PartitionTuple;
  /**
   * v3 data files: the `_row_id` of the file's first row (spec, First Row ID Inheritance). Absent
   * for a file being added (its manifest's first_row_id assigns it on read) and in v2 tables.
   */
  readonly firstRowId?: number;
  /**
   * Where a delete file's content lies and what it refers to, kept as it is through manifest
   * rewrites: its format (`puffin` for a deletion vector; Parquet when absent), key metadata, the
   * one data file a position delete or deletion vector applies to, and a deletion vector's blob
   * (offset and length) in its Puffin file.
   */
  readonly reference?: {
    readonly fileFormat?: string;
    readonly keyMetadata?: Uint8Array;
    readonly referencedDataFile?: string;
    readonly contentOffset?: number;
    readonly contentSizeInBytes?: number;
  };
}

/** A deletion vector: a blob of a Puffin file (Java writes `PUFFIN`, the spec `puffin`). */
export function isDeletionVector(file: DataFile): boolean {
  return file.reference?.fileFormat?.toLowerCase() === 'puffin';
}

/**
 * An entry's identity where one file holds several: a Puffin file's vectors differ by the data
 * file they refer to; any other file is its path alone (`referencedDataFile` absent).
 */
export function entryIdentity(filePath: string, referencedDataFile?: string): string {
  return `${filePath}\u0000${referencedDataFile ?? ''}`;
}

/** A manifest list's summary of one partition field over a manifest's files (bounds in the single-value binary form). */
export interface FieldSummary {
  readonly containsNull: boolean;
  readonly containsNan?: boolean;
  readonly lowerBound?: Uint8Array;
  readonly upperBound?: Uint8Array;
}

export interface ManifestEntry {
  readonly status: EntryStatus;
  /** Null for new (ADDED) entries: inherited from the manifest list (spec, sequence-number inheritance). */
  readonly snapshotId?: SnapshotId;
  readonly sequenceNumber?: number;
  readonly fileSequenceNumber?: number;
  readonly dataFile: DataFile;
}

/** An entry of a manifest list. */
export interface ManifestFile {
  readonly path: string;
  readonly length: number;
  readonly content: 0 | 1;
  readonly sequenceNumber: number;
  readonly minSequenceNumber: number;
  readonly addedSnapshotId: SnapshotId;
  readonly addedFilesCount: number;
  readonly existingFilesCount: number;
  readonly deletedFilesCount: number;
  readonly addedRowsCount: number;
  readonly existingRowsCount: number;
  readonly deletedRowsCount: number;
  /** The spec all of the manifest's files were written with. */
  readonly partitionSpecId: number;
  /** One per field of that spec. */
  readonly partitions?: readonly FieldSummary[];
  /** v3 data manifests: the first row id its files without one inherit from (see assignFirstRowIds). */
  readonly firstRowId?: number;
  /**
   * Not in the file: for a manifest this snapshot wrote, the rows of its live data files without a
   * first_row_id (the ids it needs); unknown, so reckoned from its counts, for carried ones.
   */
  readonly rowsWithoutId?: number;
}

const toPairs = <V>(map: ReadonlyMap<number, V> | undefined) => (map ? [...map].map(([key, value]) => ({ key, value })) : null);
const fromPairs = <V>(pairs: Array<{ key: number; value: V }> | null) => (pairs ? new Map(pairs.map((p) => [p.key, p.value])) : undefined);

/**
 * A manifest of files of one spec (spec, Manifests: a manifest holds files of a single spec; its
 * entry schema has that spec's partition record).
 */
export function writeManifest(entries: readonly ManifestEntry[], schema: IcebergSchema, content: 'data' | 'deletes', spec: PartitionSpec = UNPARTITIONED, formatVersion: FormatVersion = 2): Buffer {
  const bound = bindSpec(spec, schema);
  const records = entries.map((entry) => ({
    status: entry.status,
    snapshot_id: entry.snapshotId ?? null,
    sequence_number: entry.sequenceNumber ?? null,
    file_sequence_number: entry.fileSequenceNumber ?? null,
    data_file: {
      content: entry.dataFile.content,
      file_path: entry.dataFile.filePath,
      file_format: entry.dataFile.reference?.fileFormat ?? 'PARQUET',
      partition: toAvroPartition(bound, entry.dataFile.partition),
      record_count: entry.dataFile.recordCount,
      file_size_in_bytes: entry.dataFile.fileSizeInBytes,
      column_sizes: toPairs(entry.dataFile.columnSizes),
      value_counts: toPairs(entry.dataFile.valueCounts),
      null_value_counts: toPairs(entry.dataFile.nullValueCounts),
      nan_value_counts: toPairs(entry.dataFile.nanValueCounts),
      lower_bounds: toPairs(entry.dataFile.lowerBounds)?.map((p) => ({ key: p.key, value: Buffer.from(p.value) })) ?? null,
      upper_bounds: toPairs(entry.dataFile.upperBounds)?.map((p) => ({ key: p.key, value: Buffer.from(p.value) })) ?? null,
      key_metadata: entry.dataFile.reference?.keyMetadata ? Buffer.from(entry.dataFile.reference.keyMetadata) : null,
      split_offsets: entry.dataFile.splitOffsets ? [...entry.dataFile.splitOffsets] : null,
      equality_ids: entry.dataFile.equalityIds ? [...entry.dataFile.equalityIds] : null,
      // Delete files are not sorted by a table order (spec: sort_order_id is for data files only).
      sort_order_id: entry.dataFile.content === FileContent.Data ? (entry.dataFile.sortOrderId ?? 0) : null,
      referenced_data_file: entry.dataFile.reference?.referencedDataFile ?? null,
      // Delete files never have one (spec); an existing data file's inherited id is written out.
      ...(formatVersion >= 3
        ? {
            first_row_id: entry.dataFile.content === FileContent.Data ? (entry.dataFile.firstRowId ?? null) : null,
            content_offset: entry.dataFile.reference?.contentOffset ?? null,
            content_size_in_bytes: entry.dataFile.reference?.contentSizeInBytes ?? null,
          }
        : {}),
    },
  }));
  return writeAvroContainer(manifestEntrySchema(partitionAvroFields(bound), formatVersion), records, {
    schema: stringifyIcebergJson(schema).replace(/\n\s*/g, ''),
    'schema-id': String(schema['schema-id']),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': String(formatVersion),
    content,
  });
}

interface EntryRecord {
  status: EntryStatus;
  snapshot_id: SnapshotId | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: {
    content: FileContent;
    file_path: string;
    partition: Record<string, unknown>;
    record_count: number;
    file_size_in_bytes: number;
    column_sizes: Array<{ key: number; value: number }> | null;
    value_counts: Array<{ key: number; value: number }> | null;
    null_value_counts: Array<{ key: number; value: number }> | null;
    nan_value_counts: Array<{ key: number; value: number }> | null;
    lower_bounds: Array<{ key: number; value: Buffer }> | null;
    upper_bounds: Array<{ key: number; value: Buffer }> | null;
    split_offsets: number[] | null;
    equality_ids: number[] | null;
    sort_order_id?: number | null;
    first_row_id?: number | null;
    file_format?: string;
    key_metadata?: Buffer | null;
    referenced_data_file?: string | null;
    content_offset?: number | null;
    content_size_in_bytes?: number | null;
  };
}

/**
 * The entries of a manifest, with inherited values filled in: an ADDED entry written with null
 * snapshot id and sequence numbers takes them from its manifest-list entry; a live data file
 * without a first_row_id takes the manifest's plus the rows of the live files before it that had
 * none (spec, First Row ID Inheritance; none when the manifest has none, as before a v3 upgrade).
 * DELETED entries neither take nor advance one, as Java's ManifestReader and iceberg-rust read
 * them, matching the ids Java's manifest list reserves (added and existing rows only).
 */
export function readManifest(bytes: Uint8Array, listed: ManifestFile): ManifestEntry[] {
  const { meta, records } = readAvroContainer(bytes);
  const partitionFields = partitionRecordFields(meta['avro.schema']);
  const specId = listed.partitionSpecId ?? Number(meta['partition-spec-id'] ?? 0);
  let nextRowId = listed.content === 0 ? listed.firstRowId : undefined;
  return (records as EntryRecord[]).map((record) => {
    const inherit = record.status === EntryStatus.Added;
    const file = record.data_file;
    let firstRowId = file.content === FileContent.Data ? (file.first_row_id ?? undefined) : undefined;
    if (firstRowId === undefined && file.content === FileContent.Data && record.status !== EntryStatus.Deleted && nextRowId !== undefined) {
      firstRowId = nextRowId;
      nextRowId += file.record_count;
    }
    return {
      status: record.status,
      snapshotId: record.snapshot_id ?? (inherit ? listed.addedSnapshotId : undefined),
      sequenceNumber: record.sequence_number ?? (inherit ? listed.sequenceNumber : undefined),
      fileSequenceNumber: record.file_sequence_number ?? (inherit ? listed.sequenceNumber : undefined),
      dataFile: {
        content: file.content,
        filePath: file.file_path,
        recordCount: file.record_count,
        fileSizeInBytes: file.file_size_in_bytes,
        columnSizes: fromPairs(file.column_sizes),
        valueCounts: fromPairs(file.value_counts) ?? new Map(),
        nullValueCounts: fromPairs(file.null_value_counts) ?? new Map(),
        nanValueCounts: fromPairs(file.nan_value_counts),
        lowerBounds: fromPairs(file.lower_bounds) ?? new Map(),
        upperBounds: fromPairs(file.upper_bounds) ?? new Map(),
        ...(file.split_offsets ? { splitOffsets: file.split_offsets } : {}),
        ...(file.equality_ids ? { equalityIds: file.equality_ids } : {}),
        // Kept so a rewritten (EXISTING/DELETED) entry still says how its file is sorted.
        ...(file.sort_order_id !== undefined && file.sort_order_id !== null && file.content === FileContent.Data ? { sortOrderId: file.sort_order_id } : {}),
        specId,
        partition: fromAvroPartition(file.partition, partitionFields),
        ...(firstRowId !== undefined ? { firstRowId } : {}),
        ...referenceOf(file),
      },
    };
  });
}

function referenceOf(file: EntryRecord['data_file']): Pick<DataFile, 'reference'> {
  const reference = {
    ...(file.file_format && file.file_format.toUpperCase() !== 'PARQUET' ? { fileFormat: file.file_format } : {}),
    ...(file.key_metadata ? { keyMetadata: Uint8Array.from(file.key_metadata) } : {}),
    ...(file.referenced_data_file ? { referencedDataFile: file.referenced_data_file } : {}),
    ...(file.content_offset !== undefined && file.content_offset !== null ? { contentOffset: file.content_offset } : {}),
    ...(file.content_size_in_bytes !== undefined && file.content_size_in_bytes !== null ? { contentSizeInBytes: file.content_size_in_bytes } : {}),
  };
  return Object.keys(reference).length > 0 ? { reference } : {};
}

/** The fields of the partition record in a manifest's Avro schema (how its tuples are laid out). */
function partitionRecordFields(avroSchema: string | undefined): Array<{ name: string; type: unknown }> {
  if (!avroSchema) return [];
  const entry = JSON.parse(avroSchema) as { fields: Array<{ name: string; type: { fields?: Array<{ name: string; type: unknown }> } }> };
  const dataFile = entry.fields.find((f) => f.name === 'data_file')?.type;
  const partition = (dataFile?.fields as Array<{ name: string; type: { fields?: Array<{ name: string; type: unknown }> } }> | undefined)?.find((f) => f.name === 'partition');
  return partition?.type.fields ?? [];
}

/**
 * The manifest list's summary of each partition field over `tuples` (spec, Manifest Lists:
 * field_summary): whether any is null or NaN, and the lower and upper bounds.
 */
export function partitionSummaries(bound: readonly BoundPartitionField[], tuples: readonly (PartitionTuple | undefined)[]): FieldSummary[] {
  return bound.map((b, i) => {
    const stats = columnStats(b.type, tuples.map((t) => t?.[i] ?? null));
    return {
      containsNull: stats.nullCount > 0,
      ...(b.type === 'float' || b.type === 'double' ? { containsNan: (stats.nanCount ?? 0) > 0 } : {}),
      ...(stats.lower ? { lowerBound: stats.lower } : {}),
      ...(stats.upper ? { upperBound: stats.upper } : {}),
    };
  });
}

/**
 * v3: every data manifest without a first_row_id gets one, from `firstRowId` (the table's
 * next-row-id) up; delete manifests keep none (spec, First Row ID Assignment). Each takes as many
 * ids as its live files without an id have rows: exactly that for a manifest this snapshot wrote
 * (EXISTING entries it rewrote carry theirs), its added and existing rows for a carried one (as
 * Java reserves them). A carried one that also lists DELETED files takes their rows too, so a
 * reader that counts those before a live file (the spec's text can be read so) stays in range.
 * `assigned` is the snapshot's added-rows.
 */
export function assignFirstRowIds(manifests: readonly ManifestFile[], firstRowId: number): { readonly manifests: ManifestFile[]; readonly assigned: number } {
  let next = firstRowId;
  const assigned = manifests.map((m) => {
    if (m.content !== 0 || m.firstRowId !== undefined) return m;
    const start = next;
    const live = m.addedRowsCount + m.existingRowsCount;
    next += m.rowsWithoutId ?? live + (live > 0 ? m.deletedRowsCount : 0);
    return { ...m, firstRowId: start };
  });
  return { manifests: assigned, assigned: next - firstRowId };
}

export function writeManifestList(
  manifests: readonly ManifestFile[],
  snapshot: { readonly snapshotId: SnapshotId; readonly parentSnapshotId?: SnapshotId; readonly sequenceNumber: number; readonly firstRowId?: number },
  formatVersion: FormatVersion = 2,
): Buffer {
  const records = manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: m.length,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions: (m.partitions ?? []).map((p) => ({
      contains_null: p.containsNull,
      contains_nan: p.containsNan ?? null,
      lower_bound: p.lowerBound ? Buffer.from(p.lowerBound) : null,
      upper_bound: p.upperBound ? Buffer.from(p.upperBound) : null,
    })),
    key_metadata: null,
    ...(formatVersion >= 3 ? { first_row_id: m.content === 0 ? (m.firstRowId ?? null) : null } : {}),
  }));
  return writeAvroContainer(manifestFileSchema(formatVersion), records, {
    'snapshot-id': String(snapshot.snapshotId),
    'parent-snapshot-id': snapshot.parentSnapshotId === undefined ? 'null' : String(snapshot.parentSnapshotId),
    'sequence-number': String(snapshot.sequenceNumber),
    'format-version': String(formatVersion),
    ...(formatVersion >= 3 && snapshot.firstRowId !== undefined ? { 'first-row-id': String(snapshot.firstRowId) } : {}),
  });
}

interface ManifestFileRecord {
  manifest_path: string;
  manifest_length: number;
  content: 0 | 1;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: SnapshotId;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partition_spec_id: number;
  partitions: Array<{ contains_null: boolean; contains_nan: boolean | null; lower_bound: Buffer | null; upper_bound: Buffer | null }> | null;
  first_row_id?: number | null;
}

export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  return (readAvroContainer(bytes).records as ManifestFileRecord[]).map((r) => ({
    path: r.manifest_path,
    length: r.manifest_length,
    content: r.content,
    sequenceNumber: r.sequence_number,
    minSequenceNumber: r.min_sequence_number,
    addedSnapshotId: r.added_snapshot_id,
    addedFilesCount: r.added_files_count,
    existingFilesCount: r.existing_files_count,
    deletedFilesCount: r.deleted_files_count,
    addedRowsCount: r.added_rows_count,
    existingRowsCount: r.existing_rows_count,
    deletedRowsCount: r.deleted_rows_count,
    partitionSpecId: r.partition_spec_id,
    partitions: (r.partitions ?? []).map((p) => ({
      containsNull: p.contains_null,
      ...(p.contains_nan === null ? {} : { containsNan: p.contains_nan }),
      ...(p.lower_bound ? { lowerBound: Uint8Array.from(p.lower_bound) } : {}),
      ...(p.upper_bound ? { upperBound: Uint8Array.from(p.upper_bound) } : {}),
    })),
    ...(r.first_row_id !== undefined && r.first_row_id !== null ? { firstRowId: r.first_row_id } : {}),
  }));
}
