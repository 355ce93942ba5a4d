import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const run = promisify(execFile);

/** A row as icebird returns it: longs as bigint, timestamps as Date, binary as Uint8Array. */
export type IcebirdRow = Record<string, unknown>;

/**
 * Reads a table with icebird 0.3.1 (from npm), through the metadata file the catalog names, or
 * through version-hint.text like a file-based reader.
 */
export async function readWithIcebird(tableLocation: string, metadataLocation: string | 'version-hint'): Promise<IcebirdRow[]> {
  return parse((await run(process.execPath, [join(__dirname, 'iceberg-read.mjs'), tableLocation, metadataLocation], { maxBuffer: 1 << 30 })).stdout) as IcebirdRow[];
}

/** A live file of the current snapshot, as icebird reads the manifests. */
export interface IcebirdFile {
  readonly path: string;
  /** 0 data, 1 position deletes, 2 equality deletes. */
  readonly content: number;
  readonly sequenceNumber: number;
  readonly recordCount: number;
  /** Equality deletes: the field ids they compare. */
  readonly equalityIds?: readonly number[];
  /** The sort order id the manifest entry records (null for delete files). */
  readonly sortOrderId: number | null;
  /** The manifest listing it, that manifest's partition spec id (from the manifest list), and its partition tuple by field name. */
  readonly manifest?: string;
  readonly specId?: number;
  readonly partition?: Readonly<Record<string, unknown>>;
  /** v3: the file's first_row_id, explicit or inherited (worked out from the manifests, not by icebird). */
  readonly firstRowId?: bigint;
  /** `parquet`, or `puffin` for a deletion vector. */
  readonly fileFormat?: string;
  /** Position deletes and deletion vectors: the data file they apply to, when one; a vector's blob in its Puffin file. */
  readonly referencedDataFile?: string;
  readonly contentOffset?: number;
  readonly contentSizeInBytes?: number;
}

/** A manifest-list entry, as icebird's Avro reader reads it. */
export interface ListedManifest {
  readonly path: string;
  readonly content: number;
  readonly specId: number;
  readonly partitions: ReadonlyArray<{ contains_null: boolean; contains_nan?: boolean | null; lower_bound?: Uint8Array | null; upper_bound?: Uint8Array | null }>;
  /** v3: the manifest's first_row_id (data manifests). */
  readonly firstRowId?: bigint;
}

/** The table's rows and its live files, both read by icebird. */
export async function readTableWithIcebird(tableLocation: string, metadataLocation: string, s3Endpoint?: string): Promise<{ rows: IcebirdRow[]; files: IcebirdFile[]; manifests: ListedManifest[]; rowsUnread?: string }> {
  const env = { ...process.env, ...(s3Endpoint ? { PHILOTES_TEST_S3_ENDPOINT: s3Endpoint } : {}) };
  return parse((await run(process.execPath, [join(__dirname, 'iceberg-read.mjs'), tableLocation, metadataLocation, '--files'], { maxBuffer: 1 << 30, env })).stdout) as {
    rows: IcebirdRow[];
    files: IcebirdFile[];
    manifests: ListedManifest[];
    /** Set when icebird could not read the rows (deletion vectors, which 0.3.1 does not know): `rows` is then empty. */
    rowsUnread?: string;
  };
}

function parse(json: string): unknown {
  return JSON.parse(json, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$bigint' in value) return BigInt((value as { $bigint: string }).$bigint);
    if (value && typeof value === 'object' && '$bytes' in value) return Uint8Array.from(Buffer.from((value as { $bytes: string }).$bytes, 'hex'));
    return value;
  });
}

/** DuckDB's own Parquet reader, for what a data file holds: its schema, key-value pairs, rows. */
export async function duckdb<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const result = await connection.runAndReadAll(sql);
    return result.getRowObjectsJson() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every manifest list, manifest and live data or delete file of every snapshot, as icebird reads them. */
export async function reachableWithIcebird(tableLocation: string, metadataLocation: string): Promise<string[]> {
  return parse((await run(process.execPath, [join(__dirname, 'iceberg-read.mjs'), tableLocation, metadataLocation, '--reachable'], { maxBuffer: 1 << 30 })).stdout) as string[];
}

/** The current snapshot's manifests as icebird lists them: each entry's status (0 existing, 1 added, 2 deleted) and content. */
export async function manifestsWithIcebird(tableLocation: string, metadataLocation: string): Promise<Array<{ url: string; entries: Array<{ status: number; content: number }> }>> {
  return parse((await run(process.execPath, [join(__dirname, 'iceberg-read.mjs'), tableLocation, metadataLocation, '--manifests'], { maxBuffer: 1 << 30 })).stdout) as Array<{
    url: string;
    entries: Array<{ status: number; content: number }>;
  }>;
}
