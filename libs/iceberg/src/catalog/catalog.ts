import { ClientBase } from 'pg';

/** A connection or a pool: anything that runs a query (a commit passes its transaction's client). */
export type Queryable = Pick<ClientBase, 'query'>;

export interface TableIdentifier {
  /** Dot-joined for multi-level namespaces, as Iceberg's JDBC catalog stores them. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * The caller's unit of work a catalog swap may join: the SQL catalog runs its swap on this
 * transaction, so the writer's progress and the table's new metadata commit together. A catalog
 * that cannot join one (a REST catalog) commits on its own, and the caller must recover its
 * position from the table instead.
 */
export interface CommitUnit {
  readonly db: Queryable;
  /**
   * For a catalog whose state is not in `db`'s database (MemoryCatalog, in tests): it enlists its
   * change, applied when the unit commits and dropped when it does not. The SQL catalog needs none.
   */
  readonly enlist?: (change: DeferredChange) => void;
}

/** A catalog's change held for the caller's unit of work until it ends. */
export interface DeferredChange {
  commit(): void;
  rollback(): void;
}

/**
 * Port: where a table's current metadata file is recorded. Each catalog holds its own connection
 * (the SQL catalog: the buffer database), so another catalog can be plugged in; only a swap may
 * join the caller's unit of work.
 */
export interface Catalog {
  readonly name: string;
  /** The current metadata location, or undefined when the table does not exist. */
  load(table: TableIdentifier): Promise<string | undefined>;
  /** Registers a new table; false when one of that name already exists. */
  create(table: TableIdentifier, metadataLocation: string): Promise<boolean>;
  /** Compare-and-swap of the metadata location; false when another commit got there first. */
  swap(table: TableIdentifier, expected: string, next: string, unit?: CommitUnit): Promise<boolean>;
  ensureNamespace(namespace: string): Promise<void>;
  list(): Promise<TableIdentifier[]>;
}
