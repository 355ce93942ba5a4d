import { ClientBase, Pool } from 'pg';
import { Lsn, parseLsn } from '@philotes/pgoutput';
import { RangeAlignment } from './range-partition';

export interface SlotInfo {
  readonly plugin: string | null;
  readonly database: string | null;
  readonly active: boolean;
  readonly confirmedFlushLsn: Lsn | undefined;
  /** 'lost' (PostgreSQL 13+) or an invalidation reason (16+) means the slot can no longer stream. */
  readonly unusableReason: string | undefined;
  /**
   * WAL the source may still write before this slot is lost (`safe_wal_size`, PostgreSQL 13+);
   * undefined when nothing limits it (`max_slot_wal_keep_size = -1`, the default).
   */
  readonly safeWalBytes: number | undefined;
}

/** A non-builtin type as the source catalog describes it. */
export interface CatalogType {
  readonly oid: number;
  readonly name: string;
  /** b base, c composite, d domain, e enum, m multirange, p pseudo, r range. */
  readonly typtype: string;
  /** For arrays, the element type; 0 otherwise. */
  readonly elementOid: number;
  /** For domains, the underlying type; 0 otherwise. */
  readonly baseOid: number;
  /** For domains, the base type's modifier (numeric(12,2) of `CREATE DOMAIN d AS numeric(12,2)`); -1 when none. */
  readonly baseTypeModifier?: number;
}

export interface CatalogColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeModifier: number;
  readonly key: boolean;
  readonly primaryKey?: boolean;
}

export interface PublishedTable {
  readonly schema: string;
  readonly table: string;
}

/**
 * What a publication streams of one table, so a copy returns exactly that: its column list and
 * row filter (PostgreSQL 15+; absent before), and whether the table is a partitioned root (under
 * publish_via_partition_root the root is published and its partitions' rows stream under its name).
 */
export interface PublishedShape {
  /** Published columns, by name; undefined when every column is. */
  readonly columns?: readonly string[];
  /** The row filter as PostgreSQL deparsed it; undefined when every row is published. */
  readonly rowFilter?: string;
  readonly partitioned: boolean;
  /** The relation that has the table's name now. */
  readonly relationOid: number;
  /** The publication's membership row (see MEMBERSHIP_SQL); absent for FOR ALL TABLES and schema publications. */
  readonly membershipOid?: number;
}

/**
 * What the reader asks the source outside the replication stream: publication and slot state,
 * type and column definitions, the current WAL position. Plain SQL over a small pool.
 */
/**
 * SQL over `pt` (pg_publication_tables) and `c` (its pg_class row): the publication's membership
 * row of the table, or of the partitioned table it is published through; NULL for FOR ALL TABLES
 * and schema publications. (pg_partition_ancestors lists a partition and its ancestors, nothing
 * for a plain table.)
 */
const MEMBERSHIP_SQL = `(SELECT min(pr.oid)::int8::float8 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                          WHERE p.pubname = pt.pubname AND (pr.prrelid = c.oid OR pr.prrelid IN (SELECT relid FROM pg_partition_ancestors(c.oid))))`;

export class SourceCatalog {
  constructor(private readonly pool: Pool) {}

  /**
   * Creates the publication when it does not exist (for all tables, or `tables`); else leaves it.
   * `partitioned`: root publishes a partitioned table's changes under its own name
   * (publish_via_partition_root), so it stays one table whatever its partitions do; leaves publishes
   * each partition as itself.
   */
  async ensurePublication(name: string, tables: readonly string[], partitioned: 'root' | 'leaves' = 'root'): Promise<'created' | 'existing'> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
    if (rowCount) return 'existing';
    const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
    const target = tables.length === 0 ? 'FOR ALL TABLES' : `FOR TABLE ${tables.map((t) => t.split('.').map(quote).join('.')).join(', ')}`;
    try {
      await this.pool.query(`CREATE PUBLICATION ${quote(name)} ${target} WITH (publish_via_partition_root = ${partitioned === 'root'})`);
    } catch (error) {
      // Another reader (a standby starting at the same moment) may have created it.
      if ((error as { code?: string }).code !== '42710') throw error;
      return 'existing';
    }
    return 'created';
  }

  /**
   * Published tables without a replica identity (no primary key, REPLICA IDENTITY DEFAULT, or
   * NOTHING): while the publication publishes updates or deletes, PostgreSQL refuses UPDATE and
   * DELETE on them at the source.
   */
  async tablesWithoutIdentity(publication: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT format('%I.%I', pt.schemaname, pt.tablename) AS name
         FROM pg_publication p
         JOIN pg_publication_tables pt ON pt.pubname = p.pubname
         JOIN pg_namespace n ON n.nspname = pt.schemaname
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
        WHERE p.pubname = $1 AND (p.pubupdate OR p.pubdelete)
          AND (c.relreplident = 'n'
               OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
        ORDER BY 1`,
      [publication],
    );
    return rows.map((row) => row.name);
  }

  async slot(name: string): Promise<SlotInfo | undefined> {
    const { rows } = await this.pool.query<Record<string, unknown>>('SELECT * FROM pg_replication_slots WHERE slot_name = $1', [name]);
    const row = rows[0];
    if (!row) return undefined;
    const walStatus = row.wal_status as string | undefined;
    const invalidation = (row.invalidation_reason as string | null | undefined) ?? (row.conflicting === true ? 'conflicting with recovery' : null);
    return {
      plugin: row.plugin as string | null,
      database: row.database as string | null,
      active: row.active === true,
      confirmedFlushLsn: typeof row.confirmed_flush_lsn === 'string' ? parseLsn(row.confirmed_flush_lsn) : undefined,
      unusableReason: walStatus === 'lost' ? 'the WAL it needs was removed (wal_status lost)' : (invalidation ?? undefined),
      safeWalBytes: row.safe_wal_size === null || row.safe_wal_size === undefined ? undefined : Number(row.safe_wal_size),
    };
  }

  /** Drops a slot no longer wanted (an operator started the source over); a slot in use is ended first. */
  async dropSlot(name: string): Promise<void> {
    await this.pool.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active AND active_pid <> pg_backend_pid()', [name]);
    await this.pool.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
  }

  /** The server's version as a number: 150004 for 15.4 (server_version_num). */
  async serverVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version_num']);
    return Number(rows[0].v);
  }

  async database(): Promise<string> {
    const { rows } = await this.pool.query<{ db: string }>('SELECT current_database() AS db');
    return rows[0].db;
  }

  /** Where the next WAL record goes (the insert position, ahead of what is written or flushed). */
  /** The next transaction id, 64-bit (epoch and xid), without taking one. */
  async nextXid(): Promise<number> {
    const { rows } = await this.pool.query<{ next: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next');
    return Number(rows[0].next);
  }

  async currentWalLsn(): Promise<Lsn> {
    const { rows } = await this.pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn() AS lsn');
    return parseLsn(rows[0].lsn);
  }

  /**
   * The tables the publication streams, with their relations (a table dropped and created again is
   * a new one) and their membership rows (a table dropped from the publication and added back has
   * a new one).
   */
  async publishedTables(publication: string): Promise<Array<PublishedTable & { readonly relationOid: number; readonly membershipOid?: number }>> {
    const { rows } = await this.pool.query<{ schemaname: string; tablename: string; relation_oid: number; membership_oid: number | null }>(
      `SELECT pt.schemaname, pt.tablename, c.oid::int8::float8 AS relation_oid, ${MEMBERSHIP_SQL} AS membership_oid
         FROM pg_publication_tables pt
         JOIN pg_namespace n ON n.nspname = pt.schemaname
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
        WHERE pt.pubname = $1 ORDER BY pt.schemaname, pt.tablename`,
      [publication],
    );
    return rows.map((row) => ({ schema: row.schemaname, table: row.tablename, relationOid: row.relation_oid, ...(row.membership_oid !== null ? { membershipOid: row.membership_oid } : {}) }));
  }

  /**
   * How `publication` publishes a table, read on the copy's own connection so it is what the
   * copy's snapshot shows. Undefined when the publication does not list the table. (Columns of
   * pg_publication_tables are read through to_jsonb: attnames and rowfilter exist from 15 on.)
   */
  static async publishedShape(client: Pick<ClientBase, 'query'>, publication: string, schema: string, table: string): Promise<PublishedShape | undefined> {
    const { rows } = await client.query<{ attnames: string[] | null; rowfilter: string | null; relkind: string; relation_oid: number; membership_oid: number | null }>(
      `SELECT to_jsonb(pt) -> 'attnames' AS attnames, to_jsonb(pt) ->> 'rowfilter' AS rowfilter, c.relkind::text AS relkind,
              c.oid::int8::float8 AS relation_oid, ${MEMBERSHIP_SQL} AS membership_oid
         FROM pg_publication_tables pt
         JOIN pg_namespace n ON n.nspname = pt.schemaname
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
        WHERE pt.pubname = $1 AND pt.schemaname = $2 AND pt.tablename = $3`,
      [publication, schema, table],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...(row.attnames ? { columns: row.attnames } : {}),
      ...(row.rowfilter ? { rowFilter: row.rowfilter } : {}),
      partitioned: row.relkind === 'p',
      relationOid: row.relation_oid,
      ...(row.membership_oid !== null ? { membershipOid: row.membership_oid } : {}),
    };
  }

  /**
   * How a partitioned table's own partitions are bounded, when it is partitioned by range on one
   * date or timestamp column: the bounds in UTC (a timestamptz bound is printed in the session's
   * time zone with its offset, so the cast back is exact), checked against each unit. Undefined
   * for any other table.
   */
  async rangeAlignment(relationOid: number): Promise<RangeAlignment | undefined> {
    const { rows } = await this.pool.query<{ column: string; is_date: boolean; bounds: number; year: boolean; month: boolean; day: boolean; hour: boolean }>(
      `WITH key AS (
         SELECT a.attname, a.atttypid
           FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
          WHERE p.partrelid = $1::oid AND p.partstrat = 'r' AND p.partnatts = 1
            AND a.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
       ), instants AS (
         SELECT CASE WHEN key.atttypid = 'timestamptz'::regtype THEN replace(m[1], '''''', '''')::timestamptz AT TIME ZONE 'UTC'
                     ELSE replace(m[1], '''''', '''')::timestamp END AS t
           FROM key, pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                regexp_matches(pg_get_expr(c.relpartbound, c.oid), '''((?:[^'']|'''')*)''', 'g') AS m
          WHERE i.inhparent = $1::oid
       )
       SELECT key.attname AS column, key.atttypid = 'date'::regtype AS is_date, count(t)::int AS bounds,
              coalesce(bool_and(date_trunc('year', t) = t), false) AS year, coalesce(bool_and(date_trunc('month', t) = t), false) AS month,
              coalesce(bool_and(date_trunc('day', t) = t), false) AS day, coalesce(bool_and(date_trunc('hour', t) = t), false) AS hour
         FROM key LEFT JOIN instants ON true GROUP BY key.attname, key.atttypid`,
      [relationOid],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { column: row.column, isDate: row.is_date, bounds: row.bounds, aligned: { year: row.year, month: row.month, day: row.day, hour: row.hour } };
  }

  /** The primary-key columns of a relation (by OID); empty when it has none or is gone. */
  async primaryKey(relationOid: number): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::oid AND i.indisprimary`,
      [relationOid],
    );
    return new Set(rows.map((row) => row.attname));
  }

  async types(oids: readonly number[]): Promise<Map<number, CatalogType>> {
    if (oids.length === 0) return new Map();
    const { rows } = await this.pool.query<{ oid: number; name: string; typtype: string; typelem: number; typbasetype: number; typtypmod: number }>(
      `SELECT t.oid::int8::float8 AS oid, format('%I.%I', n.nspname, t.typname) AS name, t.typtype, t.typelem::int8::float8 AS typelem,
              t.typbasetype::int8::float8 AS typbasetype, t.typtypmod
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ANY($1::oid[])`,
      [oids],
    );
    return new Map(rows.map((row) => [row.oid, { oid: row.oid, name: row.name, typtype: row.typtype, elementOid: row.typelem, baseOid: row.typbasetype, baseTypeModifier: row.typtypmod }]));
  }

  /**
   * A table's columns as pgoutput's Relation message would list them: attribute order, no dropped
   * or generated columns, only those of the publication's column list (when it has one), the
   * replica identity's columns flagged as key.
   */
  static async columns(client: ClientBase, schema: string, table: string, published?: readonly string[]): Promise<{ relationOid: number; replicaIdentity: 'd' | 'n' | 'f' | 'i'; columns: CatalogColumn[] }> {
    const { rows } = await client.query<{ relation_oid: number; relreplident: 'd' | 'n' | 'f' | 'i'; attname: string; atttypid: number; atttypmod: number; key: boolean; primary_key: boolean }>(
      `SELECT c.oid::int8::float8 AS relation_oid, c.relreplident, a.attname, a.atttypid::int8::float8 AS atttypid, a.atttypmod,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY(i.indkey) AND i.indisprimary) AS primary_key,
              CASE c.relreplident
                WHEN 'f' THEN true
                WHEN 'n' THEN false
                ELSE EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY(i.indkey)
                               AND CASE c.relreplident WHEN 'i' THEN i.indisreplident ELSE i.indisprimary END)
              END AS key
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE n.nspname = $1 AND c.relname = $2 AND ($3::text[] IS NULL OR a.attname = ANY($3::text[]))
        ORDER BY a.attnum`,
      [schema, table, published ?? null],
    );
    if (rows.length === 0) {
      // A table of no columns (legal: CREATE TABLE t ()) still has rows to copy.
      const { rows: relation } = await client.query<{ relation_oid: number; relreplident: 'd' | 'n' | 'f' | 'i' }>(
        `SELECT c.oid::int8::float8 AS relation_oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, table],
      );
      if (!relation[0]) throw new Error(`table ${schema}.${table} is not visible to the reader`);
      return { relationOid: relation[0].relation_oid, replicaIdentity: relation[0].relreplident, columns: [] };
    }
    return {
      relationOid: rows[0].relation_oid,
      replicaIdentity: rows[0].relreplident,
      columns: rows.map((row) => ({ name: row.attname, typeOid: row.atttypid, typeModifier: row.atttypmod, key: row.key, primaryKey: row.primary_key })),
    };
  }
}
