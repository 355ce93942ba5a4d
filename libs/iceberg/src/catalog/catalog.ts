import { ClientBase } from 'pg';

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
  load(db: ClientBase, table: TableIdentifier): Promise<string | undefined>;
  /** Registers a new table; false when one of that name already exists. */
  create(db: ClientBase, table: TableIdentifier, metadataLocation: string): Promise<boolean>;
  /** Compare-and-swap of the metadata location; false when another commit got there first. */
  swap(db: ClientBase, table: TableIdentifier, expected: string, next: string): Promise<boolean>;
  ensureNamespace(db: ClientBase, namespace: string): Promise<void>;
  list(db: ClientBase): Promise<TableIdentifier[]>;
}
