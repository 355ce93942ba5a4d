import { randomUUID } from 'node:crypto';
import { DataFile, FileContent } from './manifest';
import { writeParquetFile } from './parquet/parquet-file';
import { IcebergSchema, NestedField } from './schema';
import { ObjectStore } from './storage/object-store';

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
): Promise<DataFile> {
  const written = writeParquetFile(
    { ...schema, fields: [...fields] },
    fields.map((field, i) => ({ field, values: rows.map((row) => row[i]) })),
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
  };
}
