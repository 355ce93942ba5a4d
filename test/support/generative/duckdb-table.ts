import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { deletedPositions } from '../deletion-vectors';
import { duckdb, IcebirdFile } from '../iceberg';

/** A field of the table's current schema. */
interface Field {
  readonly id: number;
  readonly name: string;
  readonly type: unknown;
}

/** One cell as text: what both sides of a comparison reduce a value to (null stays null). */
export type Cell = string | null;

/**
 * The table's live rows read with DuckDB's own Parquet reader — not icebird's, not ours — over
 * the files the manifests list (as icebird reads the manifests), columns found by Iceberg field id
 * (a file written before a column was added lacks it: NULL; one written before a column moved
 * aside under `__before_` has the old field under the old name), and equality deletes applied as
 * the spec says: a delete file applies to data files of a lower sequence number and of the same
 * partition (spec id and tuple) — or to every data file when its spec is unpartitioned — and
 * matches a row when every one of its equality fields is equal, NULL matching NULL.
 *
 * Cells come back as text: `cast` maps a field's Iceberg type to the DuckDB SQL that turns column
 * `c` into that text. With `lineage`, each row also has `_row_id` and
 * `_last_updated_sequence_number` as the spec's Row Lineage defines them: the file's column where
 * it has one and the value is not null, else its first_row_id plus the row's position
 * (DuckDB's file_row_number) and its data sequence number.
 */
export async function duckdbRows(
  metadataLocation: string,
  files: readonly IcebirdFile[],
  cast: (type: unknown) => (column: string) => string,
  { lineage = false }: { readonly lineage?: boolean } = {},
): Promise<Array<Record<string, Cell>>> {
  const metadata = JSON.parse(await readFile(fileURLToPath(metadataLocation), 'utf8')) as {
    'current-schema-id': number;
    schemas: Array<{ 'schema-id': number; fields: Field[] }>;
    'partition-specs'?: Array<{ 'spec-id': number; fields: unknown[] }>;
  };
  const unpartitioned = new Set((metadata['partition-specs'] ?? []).filter((s) => (s.fields as Array<{ transform: string }>).every((f) => f.transform === 'void')).map((s) => s['spec-id']));
  const samePartition = (a: IcebirdFile, b: IcebirdFile) => (a.specId ?? 0) === (b.specId ?? 0) && partitionText(a) === partitionText(b);
  const fields = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!.fields;
  const data = files.filter((f) => f.content === 0);
  const deletes = files.filter((f) => f.content === 2);
  const rows: Array<Record<string, Cell>> = [];
  const deleteSets = await Promise.all(deletes.map(async (file) => ({ file, keys: await readFileRows(file.path, fields.filter((f) => file.equalityIds!.includes(f.id)), cast) })));
  const removed = await positionDeletes(files.filter((f) => f.content === 1));
  for (const file of data) {
    const fileRows = await readFileRows(file.path, lineage ? [...fields, ...LINEAGE] : fields, cast, true);
    // Position deletes and vectors of the file's path apply at its own sequence number too; where
    // a vector applies, the newest alone (it holds all the file's deleted positions).
    const applying = (removed.get(file.path) ?? []).filter((d) => d.sequence >= file.sequenceNumber);
    const vectors = applying.filter((d) => d.vector).sort((x, y) => y.sequence - x.sequence);
    const gone = vectors.length > 0 ? vectors.slice(0, 1) : applying;
    for (const row of fileRows) {
      const position = Number(row._pos);
      if (gone.some((d) => d.positions.has(position))) continue;
      if (lineage) inheritLineage(row, file);
      delete row._pos;
      const deleted = deleteSets.some(
        ({ file: del, keys }) =>
          del.sequenceNumber > file.sequenceNumber && (unpartitioned.has(del.specId ?? 0) || samePartition(del, file)) && keys.some((key) => Object.entries(key).every(([name, value]) => row[name] === value)),
      );
      if (!deleted) rows.push(row);
    }
  }
  return rows;
}

/**
 * The positions position delete files (read by DuckDB) and deletion vectors (their blobs sliced
 * from the Puffin file as the manifest entry places them, decoded by CRoaring) remove, by data
 * file path, with each delete's sequence number.
 */
async function positionDeletes(files: readonly IcebirdFile[]): Promise<Map<string, Array<{ sequence: number; vector: boolean; positions: Set<number> }>>> {
  const byPath = new Map<string, Array<{ sequence: number; vector: boolean; positions: Set<number> }>>();
  const add = (path: string, sequence: number, positions: Iterable<number>, vector = false) => {
    const list = byPath.get(path) ?? [];
    byPath.set(path, list);
    list.push({ sequence, vector, positions: new Set(positions) });
  };
  for (const file of files) {
    if (file.fileFormat === 'puffin') {
      const bytes = await readFile(fileURLToPath(file.path));
      add(file.referencedDataFile!, file.sequenceNumber, await deletedPositions(bytes.subarray(file.contentOffset!, file.contentOffset! + file.contentSizeInBytes!)), true);
      continue;
    }
    const path = fileURLToPath(file.path).replace(/'/g, "''");
    const rows = await duckdb<{ file_path: string; pos: string }>(`SELECT file_path, CAST(pos AS VARCHAR) AS pos FROM read_parquet('${path}')`);
    const grouped = new Map<string, number[]>();
    for (const row of rows) grouped.set(row.file_path, [...(grouped.get(row.file_path) ?? []), Number(row.pos)]);
    for (const [target, positions] of grouped) add(target, file.sequenceNumber, positions);
  }
  return byPath;
}

/** The spec's reserved row-lineage fields (Reserved Field IDs). */
const LINEAGE: readonly Field[] = [
  { id: 2147483540, name: '_row_id', type: 'long' },
  { id: 2147483539, name: '_last_updated_sequence_number', type: 'long' },
];

function inheritLineage(row: Record<string, Cell>, file: IcebirdFile): void {
  if (row._row_id === null) {
    // Spec, Appendix E: a file without a first_row_id gives null for both.
    if (file.firstRowId === undefined) {
      row._last_updated_sequence_number = null;
      return;
    }
    row._row_id = String(file.firstRowId + BigInt(row._pos!));
  }
  if (row._last_updated_sequence_number === null) row._last_updated_sequence_number = String(file.sequenceNumber);
}

/** A Parquet file's rows, the fields picked by field id, each cell as text; with `position`, `_pos` too. */
async function readFileRows(uri: string, fields: readonly Field[], cast: (type: unknown) => (column: string) => string, position = false): Promise<Array<Record<string, Cell>>> {
  const path = fileURLToPath(uri).replace(/'/g, "''");
  const schema = await duckdb<{ name: string; field_id: number | null }>(`SELECT name, field_id FROM parquet_schema('${path}')`);
  const byId = new Map(schema.filter((c) => c.field_id !== null).map((c) => [Number(c.field_id), c.name]));
  const select = fields.map((field, i) => {
    const name = byId.get(field.id);
    const text = LINEAGE.includes(field) ? (c: string) => `CAST(${c} AS VARCHAR)` : cast(field.type);
    return name === undefined ? `NULL AS c${i}` : `${text(`"${name.replace(/"/g, '""')}"`)} AS c${i}`;
  });
  if (select.length === 0) return (await duckdb(`SELECT 1 FROM read_parquet('${path}')`)).map(() => ({}));
  const result = await duckdb<Record<string, unknown>>(
    position ? `SELECT ${select.join(', ')}, file_row_number AS pos FROM read_parquet('${path}', file_row_number = true)` : `SELECT ${select.join(', ')} FROM read_parquet('${path}')`,
  );
  return result.map((row) => ({
    ...Object.fromEntries(fields.map((field, i) => [field.name, row[`c${i}`] === null || row[`c${i}`] === undefined ? null : String(row[`c${i}`])])),
    ...(position ? { _pos: String(row.pos) } : {}),
  }));
}

/** A partition tuple as comparable text (icebird gives longs as bigint, bytes as Uint8Array). */
function partitionText(file: IcebirdFile): string {
  return JSON.stringify(Object.entries(file.partition ?? {}), (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value,
  );
}
