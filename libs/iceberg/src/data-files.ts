import { randomUUID } from 'node:crypto';
import { DataFile, FileContent } from './manifest';
import { writeParquetFile } from './parquet/parquet-file';
import { bindSpec, partitioner, partitionKey, partitionPath, PartitionSpec, PartitionTuple } from './partitioning/partition-spec';
import { IcebergSchema, NestedField } from './schema';
import { sortRows, SortOrder } from './sort-order';
import { ParquetOptions } from './write-properties';
import { ObjectStore } from './storage/object-store';

/** How a file is written: its Parquet layout and, for data files, the table sort order of its rows. */
export interface DataFileOptions {
  readonly parquet?: ParquetOptions;
  /** Rows are sorted in this order and the file records its id; ignored for delete files. */
  readonly sort?: SortOrder;
  /** The partition every row belongs to: the file lives in its folder and records spec and tuple. */
  readonly partition?: { readonly specId: number; readonly tuple: PartitionTuple; readonly path: string };
  /** See ParquetWriteOptions.onLevelFallback. */
  readonly onLevelFallback?: (reason: string) => void;
  /** Told each file written with its rows in file order (a row's index is its position): what a key index places. */
  readonly onWritten?: (file: DataFile, rows: readonly unknown[][]) => void;
}

/**
 * Writes rows (aligned with `fields`) as one Parquet file under `<table>/data/` and returns its
 * manifest description. `schema` is the table schema the file records as `iceberg.schema`; for
 * equality deletes `fields` are the key fields and `equalityIds` their ids.
 */
export async function writeDataFile(
  store: ObjectStore,
  tableLocation: string,
  schema: IcebergSchema,
  fields: readonly NestedField[],
  rows: readonly unknown[][],
  content: FileContent = FileContent.Data,
  equalityIds?: readonly number[],
  options: DataFileOptions = {},
): Promise<DataFile> {
  const { partition } = options;
  const sort = content === FileContent.Data && options.sort && options.sort.fields.length > 0 ? options.sort : undefined;
  const ordered = sort ? sortRows(rows, fields, sort) : rows;
  const written = await writeParquetFile(
    { ...schema, fields: [...fields] },
    fields.map((field, i) => ({ field, values: ordered.map((row) => row[i]) })),
    { ...(options.parquet ? { parquet: options.parquet } : {}), ...(options.onLevelFallback ? { onLevelFallback: options.onLevelFallback } : {}) },
  );
  const kind = content === FileContent.Data ? 'data' : content === FileContent.EqualityDeletes ? 'eq-deletes' : 'pos-deletes';
  // Time first: files sort by age in a listing, which helps an operator reading the warehouse.
  const folder = partition && partition.tuple.length > 0 ? `data/${partition.path}` : 'data';
  const path = `${tableLocation}/${folder}/${Date.now()}-${randomUUID()}-${kind}.parquet`;
  await store.put(path, written.bytes);
  const file: DataFile = {
    content,
    filePath: path,
    fileSizeInBytes: written.bytes.length,
    recordCount: written.recordCount,
    valueCounts: written.valueCounts,
    nullValueCounts: written.nullValueCounts,
    nanValueCounts: written.nanValueCounts,
    lowerBounds: written.lowerBounds,
    upperBounds: written.upperBounds,
    ...(equalityIds ? { equalityIds } : {}),
    ...(content === FileContent.Data && options.sort ? { sortOrderId: options.sort['order-id'] } : {}),
    ...(partition ? { specId: partition.specId, partition: partition.tuple } : {}),
  };
  options.onWritten?.(file, ordered);
  return file;
}

/**
 * Writes rows as one file per partition of `spec` (a single file when unpartitioned), each under
 * its Hive-style folder. The spec's source fields must be among `fields`: for equality deletes,
 * the key fields, so a delete lands in the partition of the row it removes.
 */
export async function writePartitionedFiles(
  store: ObjectStore,
  tableLocation: string,
  schema: IcebergSchema,
  spec: PartitionSpec,
  fields: readonly NestedField[],
  rows: readonly unknown[][],
  content: FileContent = FileContent.Data,
  equalityIds?: readonly number[],
  options: Omit<DataFileOptions, 'partition'> = {},
): Promise<DataFile[]> {
  if (rows.length === 0) return [];
  const bound = bindSpec(spec, schema);
  const tupleOf = partitioner(bound, fields);
  const groups = new Map<string, { tuple: PartitionTuple; rows: unknown[][] }>();
  for (const row of rows) {
    const tuple = tupleOf(row);
    const key = partitionKey(tuple);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { tuple, rows: [] }));
    group.rows.push(row);
  }
  const files: DataFile[] = [];
  for (const group of groups.values()) {
    files.push(await writeDataFile(store, tableLocation, schema, fields, group.rows, content, equalityIds, { ...options, partition: { specId: spec['spec-id'], tuple: group.tuple, path: partitionPath(bound, group.tuple) } }));
  }
  return files;
}
