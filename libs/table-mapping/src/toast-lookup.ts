import { bindSpec, currentSchema, IcebergTables, IcebergType, LoadedTable, ManifestEntry, NestedField, partitioner, partitionKey, readRows, specById } from '@philotes/iceberg';
import { rowKey } from './batch-assembler';

/**
 * The current rows of the given keys, read from the table's data files, newest first: a key's
 * newest row is its current one (every upsert writes a new row and deletes the older ones by key;
 * an append table's newest row of a key is its latest change). Files whose bounds on the first key
 * column exclude every wanted key are not read, nor files of a partition no wanted key falls in
 * (when the key determines the partition: every source column of the file's spec is a key column).
 */
export async function currentRows(
  tables: IcebergTables,
  table: LoadedTable,
  fields: readonly NestedField[],
  keyFields: readonly NestedField[],
  wanted: ReadonlyMap<string, readonly unknown[]>,
): Promise<Map<string, unknown[]>> {
  const found = new Map<string, unknown[]>();
  if (wanted.size === 0) return found;
  const live = await tables.liveFiles(table.metadata);
  const files = [...live.data].sort((a, b) => (b.sequenceNumber ?? 0) - (a.sequenceNumber ?? 0));
  const first = keyFields[0];
  const inPartition = partitionFilter(table, keyFields);
  const keyIndexes = keyFields.map((f) => fields.indexOf(f));
  const cdcSeq = fields.findIndex((f) => f.name === '_cdc_seq');
  const cdcLsn = fields.findIndex((f) => f.name === '_cdc_lsn');
  // Files of one sequence number (one commit's files, or a rewrite's) are one generation: a key
  // may have rows in several of them (an append table's history split over files), and the newest
  // of those is its row, whichever file the manifest lists first.
  for (let at = 0; at < files.length; ) {
    const sequence = files[at].sequenceNumber ?? 0;
    let end = at;
    while (end < files.length && (files[end].sequenceNumber ?? 0) === sequence) end++;
    const remaining = [...wanted].filter(([key]) => !found.has(key));
    if (remaining.length === 0) break;
    const newest = new Map<string, unknown[]>();
    for (const entry of files.slice(at, end)) {
      if (!mayContain(entry.dataFile.lowerBounds.get(first.id), entry.dataFile.upperBounds.get(first.id), first.type, remaining.map(([, values]) => values[0]))) continue;
      if (!remaining.some(([, values]) => inPartition(entry, values))) continue;
      for (const row of readRows(await tables.store.get(entry.dataFile.filePath), fields)) {
        const key = rowKey(row, keyIndexes);
        if (!wanted.has(key) || found.has(key)) continue;
        const previous = newest.get(key);
        if (!previous || (cdcLsn >= 0 && later(row, previous, cdcLsn, cdcSeq))) newest.set(key, row);
      }
    }
    for (const [key, row] of newest) found.set(key, row);
    at = end;
  }
  return found;
}

/** Whether a key (values aligned with the key fields) may have rows in the entry's file: false only when its partition differs. */
function partitionFilter(table: LoadedTable, keyFields: readonly NestedField[]): (entry: ManifestEntry, key: readonly unknown[]) => boolean {
  const bySpec = new Map<number, ((key: readonly unknown[]) => string) | undefined>();
  const schema = currentSchema(table.metadata);
  return (entry, key) => {
    const tuple = entry.dataFile.partition ?? [];
    if (tuple.length === 0) return true;
    const specId = entry.dataFile.specId ?? 0;
    if (!bySpec.has(specId)) {
      let keyPartition: ((key: readonly unknown[]) => string) | undefined;
      try {
        const tupleOf = partitioner(bindSpec(specById(table.metadata, specId), schema), keyFields);
        keyPartition = (values) => partitionKey(tupleOf(values));
      } catch {
        keyPartition = undefined; // a source column outside the key: the key does not tell the partition
      }
      bySpec.set(specId, keyPartition);
    }
    const keyPartition = bySpec.get(specId);
    return keyPartition === undefined || keyPartition(key) === partitionKey(tuple);
  };
}

function later(row: unknown[], than: unknown[], lsn: number, seq: number): boolean {
  const a = row[lsn] as bigint;
  const b = than[lsn] as bigint;
  return a > b || (a === b && (row[seq] as bigint) > (than[seq] as bigint));
}

/** Whether [lower, upper] may hold one of `keys` (unknown bounds: yes). */
function mayContain(lower: Uint8Array | undefined, upper: Uint8Array | undefined, type: IcebergType, keys: readonly unknown[]): boolean {
  if (!lower || !upper || typeof type !== 'string' || !['int', 'long', 'string'].includes(type)) return true;
  const compare = (value: unknown, bound: Uint8Array): number => {
    if (type === 'string') return Buffer.compare(Buffer.from(value as string, 'utf8'), Buffer.from(bound));
    const a = BigInt(value as bigint | number);
    const b = type === 'long' ? Buffer.from(bound).readBigInt64LE() : BigInt(Buffer.from(bound).readInt32LE());
    return a < b ? -1 : a > b ? 1 : 0;
  };
  // String bounds may be truncated prefixes; comparing the full value against them stays safe for
  // the lower bound and, since the upper bound was incremented, for the upper bound too.
  return keys.some((key) => key !== null && compare(key, lower) >= 0 && compare(key, upper) <= 0);
}
