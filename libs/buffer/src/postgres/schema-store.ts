import { ClientBase } from 'pg';
import { RelationSchema, SchemaStore } from '../ports';
import { lsnParam } from './sql';

/** `cdc_tables` and `cdc_schema_history`: which tables a source has, and their column lists over time. */
export class PostgresSchemaStore implements SchemaStore {
  constructor(private readonly client: ClientBase) {}

  async tableId(sourceId: string, schema: string, table: string): Promise<number> {
    // DO UPDATE (a no-op) rather than DO NOTHING, so RETURNING yields the existing row too.
    const { rows } = await this.client.query<{ table_id: number }>(
      `INSERT INTO cdc_tables (source_id, schema_name, table_name) VALUES ($1, $2, $3)
       ON CONFLICT (source_id, schema_name, table_name) DO UPDATE SET schema_name = EXCLUDED.schema_name
       RETURNING table_id`,
      [sourceId, schema, table],
    );
    return rows[0].table_id;
  }

  async recordVersion(tableId: number, schema: RelationSchema, firstLsn: bigint): Promise<number> {
    const columns = JSON.stringify(schema.columns);
    // The stream and a copy beside it may describe the same table at once: a version taken by the
    // other is read again (the same columns then map to it).
    for (;;) {
      // jsonb equality ignores key order, so an unchanged table maps to its latest version.
      const { rows } = await this.client.query<{ version: number; same: boolean }>(
        `SELECT version, (columns = $2::jsonb AND replica_identity = $3 AND relation_oid = $4) AS same
           FROM cdc_schema_history WHERE table_id = $1 ORDER BY version DESC LIMIT 1`,
        [tableId, columns, schema.replicaIdentity, schema.relationOid],
      );
      if (rows[0]?.same) return rows[0].version;
      const version = (rows[0]?.version ?? 0) + 1;
      const inserted = await this.client.query(
        `INSERT INTO cdc_schema_history (table_id, version, relation_oid, replica_identity, columns, first_lsn)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT DO NOTHING`,
        [tableId, version, schema.relationOid, schema.replicaIdentity, columns, lsnParam(firstLsn)],
      );
      if (inserted.rowCount === 1) return version;
    }
  }
}
