import { ClientBase } from 'pg';

/** A connection or a pool: anything that runs a query (a commit passes its transaction's client). */
export type Queryable = Pick<ClientBase, 'query'>;

export interface TableIdentifier {
  /** Dot-joined for multi-level namespaces, as Iceberg's JDBC catalog stores them. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * Port: where a table's current metadata file is recorded. Changes run on the caller's
 * connection so a commit can join the caller's transaction (the writer commits the table's new
 * metadata and its progress offset together).
 */
export interface Catalog {
  readonly name: string;
  /** The current metadata location, or undefined when the table does not exist. */
  load(db: Queryable, table: TableIdentifier): Promise<string | undefined>;
  /** Registers a new table; false when one of that name already exists. */
  create(db: Queryable, table: TableIdentifier, metadataLocation: string): Promise<boolean>;
  /** Compare-and-swap of the metadata location; false when another commit got there first. */
  swap(db: Queryable, table: TableIdentifier, expected: string, next: string): Promise<boolean>;
  ensureNamespace(db: Queryable, namespace: string): Promise<void>;
  list(db: Queryable): Promise<TableIdentifier[]>;
}
