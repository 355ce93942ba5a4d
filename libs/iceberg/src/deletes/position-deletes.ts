import { randomUUID } from 'node:crypto';
import { writeDataFile, DataFileOptions } from '../data-files';
import { sequenceOf } from '../equality-deletes';
import { DataFile, FileContent, isDeletionVector, ManifestEntry } from '../manifest';
import { readRows } from '../parquet/read-rows';
import { IcebergSchema, NestedField } from '../schema';
import { ObjectStore } from '../storage/object-store';
import { decodeDeletionVector, deletionVectorBlob } from './deletion-vector';
import { puffinBlobBytes, writePuffin } from './puffin';

/**
 * Deletes by position (spec, Position Delete Files; Deletion Vectors): a v2 position delete file
 * is Parquet of (file_path, pos) sorted by both; a v3 deletion vector is a `deletion-vector-v1`
 * blob of one data file's positions in a Puffin file, which the manifest entry points into. Either
 * applies to a data file of the same path whose data sequence number is at most its own (so it
 * also removes rows its own commit wrote).
 */
export const FILE_PATH_FIELD: NestedField = { id: 2147483546, name: 'file_path', required: true, type: 'string' };
export const POS_FIELD: NestedField = { id: 2147483545, name: 'pos', required: true, type: 'long' };

export interface PositionDelete {
  readonly filePath: string;
  readonly position: number;
}

/** One position delete file of `deletes` (all of one partition, given in `options.partition`), rows sorted by path then position. */
export async function writePositionDeleteFile(
  store: ObjectStore,
  tableLocation: string,
  schema: IcebergSchema,
  deletes: readonly PositionDelete[],
  options: Omit<DataFileOptions, 'sort'> = {},
): Promise<DataFile> {
  const sorted = [...deletes].sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : a.position - b.position));
  const file = await writeDataFile(store, tableLocation, schema, [FILE_PATH_FIELD, POS_FIELD], sorted.map((d) => [d.filePath, BigInt(d.position)]), FileContent.PositionDeletes, undefined, options);
  const paths = new Set(sorted.map((d) => d.filePath));
  // Set when every delete refers to one data file (spec), so a reader skips it for the others.
  return paths.size === 1 ? { ...file, reference: { referencedDataFile: [...paths][0] } } : file;
}

/**
 * One Puffin file holding a deletion vector per data file, and a manifest entry per vector: the
 * referenced data file's partition, record_count the vector's cardinality, and the blob's offset
 * and length (spec: required, and equal to the Puffin footer's).
 */
export async function writeDeletionVectors(store: ObjectStore, tableLocation: string, vectors: ReadonlyArray<{ readonly dataFile: DataFile; readonly positions: readonly number[] }>): Promise<DataFile[]> {
  if (vectors.length === 0) return [];
  const paths = new Set(vectors.map((v) => v.dataFile.filePath));
  if (paths.size < vectors.length) throw new Error('deletion vectors: two for one data file (a data file has one live vector, holding all its deleted positions)');
  for (const v of vectors) {
    const beyond = v.positions.find((p) => p >= v.dataFile.recordCount);
    if (beyond !== undefined) throw new Error(`deletion vector for ${v.dataFile.filePath}: position ${beyond} is past its ${v.dataFile.recordCount} rows`);
  }
  const { bytes, footer } = writePuffin(vectors.map((v) => deletionVectorBlob(v.dataFile.filePath, v.positions)));
  const path = `${tableLocation}/data/${Date.now()}-${randomUUID()}-dvs.puffin`;
  await store.put(path, bytes);
  return vectors.map((vector, i) => {
    const blob = footer.blobs[i];
    return {
      content: FileContent.PositionDeletes,
      filePath: path,
      recordCount: Number(blob.properties!.cardinality),
      fileSizeInBytes: bytes.length,
      valueCounts: new Map(),
      nullValueCounts: new Map(),
      lowerBounds: new Map(),
      upperBounds: new Map(),
      ...(vector.dataFile.specId !== undefined ? { specId: vector.dataFile.specId } : {}),
      ...(vector.dataFile.partition ? { partition: vector.dataFile.partition } : {}),
      // Upper case, as Java writes it (PyIceberg looks the name up as written); readers compare case-blind.
      reference: { fileFormat: 'PUFFIN', referencedDataFile: vector.dataFile.filePath, contentOffset: blob.offset, contentSizeInBytes: blob.length },
    };
  });
}

/** The positions live position deletes and deletion vectors remove, by data file. */
export class PositionDeleteIndex {
  private constructor(private readonly byPath: ReadonlyMap<string, ReadonlyArray<{ readonly sequence: number; readonly vector: boolean; readonly positions: ReadonlySet<number> }>>) {}

  /** Reads the position-delete entries among `deletes` (others are ignored). */
  static async read(store: ObjectStore, deletes: readonly ManifestEntry[]): Promise<PositionDeleteIndex> {
    const byPath = new Map<string, Array<{ sequence: number; vector: boolean; positions: Set<number> }>>();
    const add = (path: string, sequence: number, positions: Iterable<number>, vector = false) => {
      let list = byPath.get(path);
      if (!list) byPath.set(path, (list = []));
      let entry = list.find((e) => e.sequence === sequence && e.vector === vector);
      if (!entry) list.push((entry = { sequence, vector, positions: new Set() }));
      for (const p of positions) entry.positions.add(p);
    };
    const files = new Map<string, Promise<Uint8Array>>();
    const bytesOf = (path: string) => {
      let bytes = files.get(path);
      if (!bytes) files.set(path, (bytes = store.get(path)));
      return bytes;
    };
    for (const entry of deletes) {
      if (entry.dataFile.content !== FileContent.PositionDeletes) continue;
      const sequence = sequenceOf(entry);
      const reference = entry.dataFile.reference;
      if (reference && isDeletionVector(entry.dataFile)) {
        if (!reference.referencedDataFile || reference.contentOffset === undefined || reference.contentSizeInBytes === undefined) {
          throw new Error(`deletion vector in ${entry.dataFile.filePath} lacks its referenced data file, offset or length`);
        }
        const blob = puffinBlobBytes(await bytesOf(entry.dataFile.filePath), { offset: reference.contentOffset, length: reference.contentSizeInBytes });
        add(reference.referencedDataFile, sequence, decodeDeletionVector(blob), true);
        continue;
      }
      const byFile = new Map<string, number[]>();
      for (const [path, pos] of readRows(await bytesOf(entry.dataFile.filePath), [FILE_PATH_FIELD, POS_FIELD])) {
        let positions = byFile.get(path as string);
        if (!positions) byFile.set(path as string, (positions = []));
        positions.push(Number(pos as bigint));
      }
      for (const [path, positions] of byFile) add(path, sequence, positions);
    }
    return new PositionDeleteIndex(byPath);
  }

  /**
   * The positions removed from a data file: by deletes of its path and a sequence number at least
   * its own. Where a deletion vector applies, the newest one alone (spec: a file's vector holds
   * all its deleted positions and supersedes its position delete files).
   */
  deletedIn(entry: ManifestEntry): ReadonlySet<number> | undefined {
    const list = this.byPath.get(entry.dataFile.filePath);
    if (!list) return undefined;
    const sequence = sequenceOf(entry);
    const vectors = list.filter((e) => e.vector && e.sequence >= sequence);
    if (vectors.length > 0) return vectors.reduce((newest, e) => (e.sequence > newest.sequence ? e : newest)).positions;
    const applying = list.filter((e) => e.sequence >= sequence);
    if (applying.length <= 1) return applying[0]?.positions;
    const union = new Set<number>();
    for (const e of applying) for (const p of e.positions) union.add(p);
    return union;
  }
}
