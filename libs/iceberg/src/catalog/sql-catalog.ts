import { Catalog, CommitUnit, Queryable, TableIdentifier } from './catalog';

/**
 * Iceberg's SQL catalog in the buffer database: the tables and columns of Iceberg's JdbcCatalog
 * (V1 schema) and PyIceberg's SqlCatalog, so Spark, Trino, PyIceberg and others open the same
 * tables when configured with the same catalog name.
 */
export class SqlCatalog implements Catalog {
  /** `db`: the buffer database (a pool, or one connection for tools that hold one). */
  constructor(
    readonly name: string,
    private readonly db: Queryable,
  ) {}

  async load(table: TableIdentifier): Promise<string | undefined> {
    const { rows } = await this.db.query<{ metadata_location: string | null }>(
      `SELECT metadata_location FROM iceberg_tables
        WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)`,
      [this.name, table.namespace, table.name],
    );
    return rows[0]?.metadata_location ?? undefined;
  }

  async create(table: TableIdentifier, metadataLocation: string): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
       VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING`,
      [this.name, table.namespace, table.name, metadataLocation],
    );
    return result.rowCount === 1;
  }

  async swap(table: TableIdentifier, expected: string, next: string, unit?: CommitUnit): Promise<boolean> {
    const result = await (unit?.db ?? this.db).query(
      `UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5
        WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $5
          AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)`,
      [this.name, table.namespace, table.name, next, expected],
    );
    return result.rowCount === 1;
  }

  async ensureNamespace(namespace: string): Promise<void> {
    // "exists" = "true" is what JdbcCatalog and PyIceberg write when they create a namespace.
    await this.db.query(
      `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
       VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING`,
      [this.name, namespace],
    );
  }

  async list(): Promise<TableIdentifier[]> {
    const { rows } = await this.db.query<{ table_namespace: string; table_name: string }>(
      `SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = $1 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)
        ORDER BY 1, 2`,
      [this.name],
    );
    return rows.map((row) => ({ namespace: row.table_namespace, name: row.table_name }));
  }
}
