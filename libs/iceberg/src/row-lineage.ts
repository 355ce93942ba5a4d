import { ManifestEntry } from './manifest';
import { NestedField } from './schema';

/**
 * Row lineage (spec, Row Lineage, v3): every row has a `_row_id` and the sequence number that last
 * changed it. New rows carry neither (both are inherited from their file's metadata on read); a
 * row moved to another file unchanged — a compaction rewrite — must carry both explicitly, or it
 * would take new values from its new file.
 */
export const ROW_ID_FIELD: NestedField = { id: 2147483540, name: '_row_id', required: false, type: 'long' };
export const LAST_UPDATED_SEQUENCE_FIELD: NestedField = { id: 2147483539, name: '_last_updated_sequence_number', required: false, type: 'long' };
export const LINEAGE_FIELDS: readonly NestedField[] = [ROW_ID_FIELD, LAST_UPDATED_SEQUENCE_FIELD];

/**
 * The lineage of the row at `position` of a data file, from the two columns as read (null where
 * the file does not have them or the row inherits): an explicit value stands; otherwise the row
 * id is the file's first_row_id plus the position and the sequence number is the file's. A file
 * without a first_row_id (as before a v3 upgrade) gives both as null (spec, Appendix E: readers
 * must produce null for both): the row is given a new id, and its new file's number, where it lands.
 */
export function lineageOf(entry: ManifestEntry, position: number, rowId: unknown, lastUpdated: unknown): [bigint | null, bigint | null] {
  const firstRowId = entry.dataFile.firstRowId;
  const explicit = rowId !== null && rowId !== undefined;
  if (!explicit && firstRowId === undefined) return [null, null];
  const id = explicit ? BigInt(rowId as bigint) : BigInt(firstRowId!) + BigInt(position);
  return [id, lastUpdated !== null && lastUpdated !== undefined ? BigInt(lastUpdated as bigint) : BigInt(entry.sequenceNumber ?? 0)];
}

/** A source column with a row-lineage column's name: a v3 file could not hold both under their names. */
export function lineageNameClash(fields: readonly NestedField[]): string | undefined {
  return fields.find((f) => LINEAGE_FIELDS.some((l) => l.name === f.name))?.name;
}
