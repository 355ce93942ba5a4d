import { DataFile, DataFileOptions, deleteByPosition, IcebergSchema, LiveFiles, NestedField, ObjectStore, RowKeyer, TableMetadata } from '@philotes/iceberg';
import { KEY_BYTES, KeyIndex, KeyIndexChange, keyName, keyNames, rowIndexKey, writeRowIndexKey } from './key-index';

/** The table property that marks an upsert table written by position through a key index (#15). */
export const DELETES_PROPERTY = 'philotes.deletes';
export const BY_POSITION = 'position';

/** Whether a table's upserts delete by position (its creation said so); others write equality deletes. */
export function deletesByPosition(metadata: TableMetadata): boolean {
  return metadata.properties[DELETES_PROPERTY] === BY_POSITION;
}

/** A schema's key fields: its identifier fields, in their order. */
export function keyFieldsOf(schema: IcebergSchema): NestedField[] {
  return (schema['identifier-field-ids'] ?? []).map((id) => {
    const field = schema.fields.find((f) => f.id === id);
    if (!field) throw new Error(`identifier field ${id} is not in the schema`);
    return field;
  });
}

/** Where each key field is in a row of `fields`. */
export function keyIndexesOf(fields: readonly NestedField[], keyFields: readonly NestedField[]): number[] {
  return keyFields.map((key) => fields.findIndex((f) => f.id === key.id));
}

/** Keys rows of `fields` as the index does (see rowIndexKey), for a compaction's relocations. */
export function rowKeyer(fields: readonly NestedField[], keyFields: readonly NestedField[]): RowKeyer {
  const indexes = keyIndexesOf(fields, keyFields);
  if (indexes.some((i) => i < 0)) throw new Error("a key field is not among the rows' fields");
  return { keyBytes: KEY_BYTES, write: (row, out, view, at) => writeRowIndexKey(row, indexes, out, view, at) };
}

/**
 * Collects the keys of every data file a commit writes, row by row in file order (see
 * DataFileOptions.onWritten): the index's `placedFiles`. Sixteen bytes a row, one buffer a file.
 */
export class PlacedFiles {
  readonly files: Array<{ readonly path: string; readonly keys: Uint8Array }> = [];

  constructor(private readonly keyIndexes: readonly number[]) {}

  readonly onWritten = (file: DataFile, rows: readonly unknown[][]): void => {
    const keys = Buffer.allocUnsafe(rows.length * KEY_BYTES);
    const view = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
    for (let i = 0; i < rows.length; i++) writeRowIndexKey(rows[i], this.keyIndexes, keys, view, i * KEY_BYTES);
    this.files.push({ path: file.filePath, keys });
  };

  /** The keys placed, by name (see keyName). */
  names(): Set<string> {
    const names = new Set<string>();
    for (const file of this.files) for (const name of keyNames(file.keys)) names.add(name);
    return names;
  }
}

/** What a commit of a table deleting by position adds: delete files, vectors they replace, and the index's change. */
export interface KeyedDeletes {
  readonly deleteFiles: DataFile[];
  readonly removedEntries: ReadonlyArray<{ readonly filePath: string; readonly referencedDataFile: string }>;
  readonly index: KeyIndexChange;
  /** Keys the batch deletes or replaces that the index placed in an earlier file (rows deleted by position). */
  readonly hits: number;
}

/**
 * One commit's deletes by position: each key the batch updates or deletes (`deletes`, aligned
 * with the key fields) is looked up in the index, and where an earlier data file holds it, that
 * row is deleted by position (a deletion vector in a v3 table, a position delete file in v2).
 * Keys the commit itself writes need no lookup: the batch holds one row per key, so none of its
 * rows is older than another of the same key. The index change removes the deleted keys and
 * places every written row (after the removals, so a replaced key ends at its new row); a
 * TRUNCATE clears it first, and its batch deletes nothing by position (every file goes).
 */
export async function keyedDeletes(
  deps: { readonly index: KeyIndex; readonly store: ObjectStore },
  tableId: number,
  metadata: TableMetadata,
  live: () => Promise<LiveFiles>,
  batch: { readonly truncated: boolean; readonly deletes: readonly unknown[][]; readonly keyCount: number },
  placed: PlacedFiles,
  /** How a v2 table's position delete files are written (its Parquet properties). */
  options: Omit<DataFileOptions, 'sort' | 'partition' | 'onWritten'> = {},
): Promise<KeyedDeletes> {
  const all = Array.from({ length: batch.keyCount }, (_, i) => i);
  const removed = batch.truncated ? [] : batch.deletes.map((values) => rowIndexKey(values, all));
  const names = removed.map(keyName);
  const found = removed.length > 0 ? await deps.index.lookup(tableId, removed) : new Map();
  const hits = new Map<string, number[]>();
  for (const name of names) {
    const at = found.get(name);
    if (!at) continue;
    let positions = hits.get(at.path);
    if (!positions) hits.set(at.path, (positions = []));
    positions.push(at.position);
  }
  const written = hits.size > 0 ? await deleteByPosition(deps.store, metadata, await live(), hits, options) : { deleteFiles: [], removedEntries: [] };
  // An updated key is placed at its new row (which replaces the entry): only keys left without a row are removed.
  const rewritten = removed.length > 0 && placed.files.length > 0 ? placed.names() : undefined;
  return {
    ...written,
    hits: found.size,
    index: { ...(batch.truncated ? { cleared: true } : {}), removed: rewritten ? removed.filter((_, i) => !rewritten.has(names[i])) : removed, placedFiles: placed.files },
  };
}
