import { IcebergTables, NestedField, readRows } from '@philotes/iceberg';
import { KeyIndex, keyName, rowIndexKey } from './key-index';

/**
 * The current rows of the wanted keys (by the writer's key form, each with its key values) of a
 * table deleting by position: the index says which file and row hold each, so only those files
 * are read, once each, however many files the table has. A key the index does not hold has no
 * live row.
 */
export async function keyedRows(
  index: KeyIndex,
  tables: IcebergTables,
  tableId: number,
  fields: readonly NestedField[],
  wanted: ReadonlyMap<string, readonly unknown[]>,
): Promise<Map<string, unknown[]>> {
  const found = new Map<string, unknown[]>();
  if (wanted.size === 0) return found;
  const all = [...wanted.values()][0].map((_, i) => i);
  const digests = [...wanted].map(([key, values]) => [key, rowIndexKey(values, all)] as const);
  const places = await index.lookup(tableId, digests.map(([, digest]) => digest));
  const byFile = new Map<string, Array<{ key: string; position: number }>>();
  for (const [key, digest] of digests) {
    const at = places.get(keyName(digest));
    if (!at) continue;
    let list = byFile.get(at.path);
    if (!list) byFile.set(at.path, (list = []));
    list.push({ key, position: at.position });
  }
  for (const [path, list] of byFile) {
    const rows = readRows(await tables.store.get(path), fields);
    for (const { key, position } of list) found.set(key, rows[position]);
  }
  return found;
}
