import { ClientBase } from 'pg';
import { TableRef } from '../event-forms';
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

/** The id of a source's table, or undefined when the readers never registered it. */
export async function findTableId(db: Pick<ClientBase, 'query'>, sourceId: string, schema: string, table: string): Promise<number | undefined> {
  const { rows } = await db.query<{ table_id: number }>('SELECT table_id FROM cdc_tables WHERE source_id = $1 AND schema_name = $2 AND table_name = $3', [sourceId, schema, table]);
  return rows[0]?.table_id;
}

/** The ids of every table of the source the readers registered. */
export async function sourceTableIds(db: Pick<ClientBase, 'query'>, sourceId: string): Promise<number[]> {
  const { rows } = await db.query<{ table_id: number }>('SELECT table_id FROM cdc_tables WHERE source_id = $1 ORDER BY table_id', [sourceId]);
  return rows.map((row) => row.table_id);
}

/** Whether the buffer knows the source at all (a checkpoint, a table, or a process that serves it). */
export async function sourceKnown(db: Pick<ClientBase, 'query'>, sourceId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM cdc_checkpoints WHERE source_id = $1 UNION ALL SELECT 1 FROM cdc_tables WHERE source_id = $1
     UNION ALL SELECT 1 FROM pipeline_instances WHERE source_id = $1 LIMIT 1`,
    [sourceId],
  );
  return rows.length > 0;
}

/** The tables the readers registered within the scope (each field narrows it), by source and name. */
export async function registeredTables(db: Pick<ClientBase, 'query'>, scope: { readonly source?: string; readonly schema?: string; readonly table?: string } = {}): Promise<TableRef[]> {
  const { rows } = await db.query<{ table_id: number; source_id: string; schema_name: string; table_name: string }>(
    `SELECT table_id, source_id, schema_name, table_name FROM cdc_tables
      WHERE ($1::text IS NULL OR source_id = $1) AND ($2::text IS NULL OR schema_name = $2) AND ($3::text IS NULL OR table_name = $3)
      ORDER BY source_id, schema_name, table_name`,
    [scope.source ?? null, scope.schema ?? null, scope.table ?? null],
  );
  return rows.map((row) => ({ tableId: row.table_id, sourceId: row.source_id, schema: row.schema_name, table: row.table_name }));
}
