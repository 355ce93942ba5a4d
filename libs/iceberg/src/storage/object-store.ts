/** An object in a warehouse listing. */
export interface StoredObject {
  readonly uri: string;
  readonly size: number;
  readonly modified: Date;
}

/**
 * Port: where table files live. URIs are absolute, with their scheme (`file:///…`, `s3://…`), as
 * table metadata records them, so any engine can open the files.
 */
export interface ObjectStore {
  /** The warehouse root as a URI, without a trailing slash. */
  readonly root: string;
  /** Writes the object whole: readers never see part of it. */
  put(uri: string, bytes: Uint8Array): Promise<void>;
  get(uri: string): Promise<Uint8Array>;
  /** Every object under `prefix` (a directory-like URI). */
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(uris: readonly string[]): Promise<void>;
}
