import { ManifestEntry } from './manifest';
import { partitionKey } from './partitioning/partition-spec';
import { readRows } from './parquet/read-rows';
import { NestedField } from './schema';
import { ObjectStore } from './storage/object-store';

/** The keys equality-delete files remove, by the fields they compare. */
export interface DeleteGroup {
  /** Positions in the schema's fields of the equality ids. */
  readonly indexes: readonly number[];
  /** Key → highest sequence number of a delete with that key. */
  readonly keys: Map<string, number>;
  /**
   * The partition the deletes apply to (see {@link deleteScope}); undefined for deletes of an
   * unpartitioned spec, which apply to every data file (spec, Scan Planning).
   */
  readonly scope?: string;
}

/**
 * The partition (spec id and tuple) of a file, as delete groups name it; undefined when its spec
 * partitions nothing (no fields, or only void ones: `unpartitioned`, see unpartitionedSpecIds).
 */
export function deleteScope(entry: ManifestEntry, unpartitioned: ReadonlySet<number> = NO_SPECS): string | undefined {
  const tuple = entry.dataFile.partition ?? [];
  const specId = entry.dataFile.specId ?? 0;
  return tuple.length === 0 || unpartitioned.has(specId) ? undefined : `${specId}/${partitionKey(tuple)}`;
}

const NO_SPECS: ReadonlySet<number> = new Set();

/** The schema fields an equality-delete file compares; a file that is no equality delete, or names a field the schema lacks, is refused. */
export function equalityFields(entry: ManifestEntry, fields: readonly NestedField[]): NestedField[] {
  const ids = entry.dataFile.equalityIds ?? [];
  if (ids.length === 0) throw new Error(`delete file ${entry.dataFile.filePath} is not an equality delete; it cannot be applied here`);
  return ids.map((id) => {
    const field = fields.find((f) => f.id === id);
    if (!field) throw new Error(`delete file ${entry.dataFile.filePath} names field ${id}, which the schema lacks`);
    return field;
  });
}

/** Reads equality-delete files into key sets (keys only: a table's deletes fit in memory where its rows may not). */
export async function deletedKeys(store: ObjectStore, fields: readonly NestedField[], deletes: readonly ManifestEntry[], unpartitioned?: ReadonlySet<number>): Promise<DeleteGroup[]> {
  const groups = new Map<string, DeleteGroup>();
  for (const entry of deletes) {
    const ids = entry.dataFile.equalityIds ?? [];
    const keyFields = equalityFields(entry, fields);
    const scope = deleteScope(entry, unpartitioned);
    const signature = `${ids.join(',')}\u0000${scope ?? ''}`;
    let group = groups.get(signature);
    if (!group) {
      group = { indexes: keyFields.map((f) => fields.indexOf(f)), keys: new Map(), ...(scope === undefined ? {} : { scope }) };
      groups.set(signature, group);
    }
    const sequence = sequenceOf(entry);
    for (const row of readRows(await store.get(entry.dataFile.filePath), keyFields)) {
      const key = equalityKey(row, keyFields.map((_, i) => i));
      if ((group.keys.get(key) ?? -1) < sequence) group.keys.set(key, sequence);
    }
  }
  return [...groups.values()];
}

/**
 * Whether a row of a data file with sequence number `sequence` is removed by a later delete of
 * its partition (`scope`: the data file's {@link deleteScope}) or of an unpartitioned spec.
 */
export function isDeleted(row: readonly unknown[], sequence: number, groups: readonly DeleteGroup[], scope?: string): boolean {
  return groups.some((group) => (group.scope === undefined || group.scope === scope) && (group.keys.get(equalityKey(row, group.indexes)) ?? -1) > sequence);
}

/** Values compared as Iceberg compares them for equality deletes: NULL equals NULL, bytes by content. */
export function equalityKey(row: readonly unknown[], indexes: readonly number[]): string {
  return indexes
    .map((i) => {
      const value = row[i];
      if (value === null || value === undefined) return '\u0001';
      if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('hex')}`;
      return `${typeof value === 'bigint' ? 'n' : typeof value}:${String(value)}`;
    })
    .join('\u0000');
}

export function sequenceOf(entry: ManifestEntry): number {
  return entry.sequenceNumber ?? 0;
}
