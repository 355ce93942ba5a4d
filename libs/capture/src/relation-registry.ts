import { SchemaStore } from '@philotes/buffer';
import { ColumnSchema, ValueKind } from '@philotes/events';
import { TextParser, textParser } from '@philotes/pg-types';
import { ReplicaIdentity } from '@philotes/pgoutput';
import { TimeUnit } from './range-partition';
import { CatalogColumn } from './source-catalog';
import { TypeResolver } from './type-resolver';

/** What the reader knows about one source table while streaming it. */
export interface RelationState {
  readonly tableId: number;
  /** schema.table, for logs and metrics. */
  readonly qualifiedName: string;
  readonly schemaVersion: number;
  readonly columns: readonly ColumnSchema[];
  readonly kinds: readonly ValueKind[];
  readonly parsers: readonly TextParser[];
}

export interface RelationDescription {
  readonly relationOid: number;
  readonly schema: string;
  readonly table: string;
  readonly replicaIdentity: ReplicaIdentity | 'd' | 'n' | 'f' | 'i';
  readonly columns: readonly CatalogColumn[];
}

const IDENTITY_CODE: Readonly<Record<string, 'd' | 'n' | 'f' | 'i'>> = { default: 'd', nothing: 'n', full: 'f', index: 'i', d: 'd', n: 'n', f: 'f', i: 'i' };

/**
 * Relation OID → table id, schema version and column parsers. pgoutput describes a relation before
 * its first change in a session and again after it changes; each description is recorded in
 * `cdc_schema_history` (a new version only when the columns differ).
 */
export class RelationRegistry {
  private readonly byOid = new Map<number, RelationState>();
  /**
   * Told of every relation registered, and awaited: the reader refuses (throws) a relation that
   * needs a copy first, before any of its changes reaches the buffer.
   */
  onRegistered?: (relation: RelationDescription) => Promise<void>;

  constructor(
    private readonly sourceId: string,
    private readonly schemas: SchemaStore,
    private readonly types: TypeResolver,
    /** The primary-key columns of a relation; pgoutput flags only the replica identity. */
    private readonly primaryKeyOf: (relationOid: number) => Promise<Set<string>> = async () => new Set(),
    /** The time transform a partitioned table's range partitions match (see timeTransformOf). */
    private readonly rangePartitionOf: (relationOid: number) => Promise<{ readonly column: string; readonly unit: TimeUnit } | undefined> = async () => undefined,
  ) {}

  get(relationOid: number): RelationState | undefined {
    return this.byOid.get(relationOid);
  }

  async register(relation: RelationDescription, firstLsn: bigint): Promise<RelationState> {
    const qualifiedName = `${relation.schema}.${relation.table}`;
    const primaryKey = relation.columns.some((c) => c.primaryKey !== undefined) ? undefined : await this.primaryKeyOf(relation.relationOid);
    const described = primaryKey ? relation.columns.map((c) => ({ ...c, primaryKey: primaryKey.has(c.name) })) : relation.columns;
    const range = await this.rangePartitionOf(relation.relationOid);
    const columns = (await this.types.columns(qualifiedName, described)).map((c) => (c.name === range?.column ? { ...c, rangePartition: range.unit } : c));
    const tableId = await this.schemas.tableId(this.sourceId, relation.schema, relation.table);
    const replicaIdentity = IDENTITY_CODE[relation.replicaIdentity];
    const schemaVersion = await this.schemas.recordVersion(tableId, { relationOid: relation.relationOid, replicaIdentity, columns }, firstLsn);
    const state: RelationState = {
      tableId,
      qualifiedName,
      schemaVersion,
      columns,
      kinds: columns.map((c) => c.kind),
      parsers: columns.map((c) => textParser(c.kind, c.element?.kind)),
    };
    this.byOid.set(relation.relationOid, state);
    await this.onRegistered?.(relation);
    return state;
  }
}
