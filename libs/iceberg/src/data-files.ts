import { randomUUID } from 'node:crypto';
import { DataFile, FileContent } from './manifest';
import { writeParquetFile } from './parquet/parquet-file';
import { IcebergSchema, NestedField } from './schema';
import { sortRows, SortOrder } from './sort-order';
import { ParquetOptions } from './write-properties';
import { ObjectStore } from './storage/object-store';

/** How a file is written: its Parquet layout and, for data files, the table sort order of its rows. */
export interface DataFileOptions {
  readonly parquet?: ParquetOptions;
  /** Rows are sorted in this order and the file records its id; ignored for delete files. */
  readonly sort?: SortOrder;
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
  const sort = content === FileContent.Data && options.sort && options.sort.fields.length > 0 ? options.sort : undefined;
  const ordered = sort ? sortRows(rows, fields, sort) : rows;
  const written = await writeParquetFile(
    { ...schema, fields: [...fields] },
    fields.map((field, i) => ({ field, values: ordered.map((row) => row[i]) })),
    { ...(options.parquet ? { parquet: options.parquet } : {}) },
  );
  const kind = content === FileContent.Data ? 'data' : 'eq-deletes';
  // Time first: files sort by age in a listing, which helps an operator reading the warehouse.
  const path = `${tableLocation}/data/${Date.now()}-${randomUUID()}-${kind}.parquet`;
  await store.put(path, written.bytes);
  return {
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
  };
}
