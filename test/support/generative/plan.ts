import { seededRandom } from '@philotes/faults';
import { HOSTILE_NAMES } from '../hostile-names';

/** Column types the generator draws, each compared as text on both sides (see `canonical`). */
export const COLUMN_TYPES = ['int8', 'text', 'numeric(12,2)', 'bool', 'date', 'timestamptz', 'timestamp', 'jsonb', 'bytea', 'int4[]', 'float8', 'interval', 'uuid'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnPlan {
  readonly name: string;
  readonly type: ColumnType;
}

/** pk: a primary key (upsert); full: REPLICA IDENTITY FULL, no key (upsert by every column); none: neither (append, inserts only). */
export type KeyKind = 'pk' | 'full' | 'none';

export interface TablePlan {
  readonly schema: string;
  readonly name: string;
  readonly key: KeyKind;
  /** After `id int8` (always first). */
  columns: ColumnPlan[];
  /** Rows before the reader starts. */
  readonly rows: number;
  /** In the publication from the start (a `list` source's other tables join later). */
  readonly published: boolean;
  /** Hash partitions on id (0: a plain table); published through the root, so one Iceberg table. */
  readonly partitions: number;
}

export interface SourcePlan {
  readonly id: string;
  /** all: FOR ALL TABLES; list: FOR TABLE, tables added with ALTER PUBLICATION. */
  readonly publication: 'all' | 'list';
  readonly tables: TablePlan[];
}

export type Operation =
  | { readonly kind: 'insert'; readonly source: number; readonly table: number; readonly count: number }
  | { readonly kind: 'update'; readonly source: number; readonly table: number; readonly keyChange: boolean }
  | { readonly kind: 'delete'; readonly source: number; readonly table: number }
  | { readonly kind: 'truncate'; readonly source: number; readonly table: number }
  | { readonly kind: 'add-column'; readonly source: number; readonly table: number; readonly column: ColumnPlan }
  | { readonly kind: 'drop-column'; readonly source: number; readonly table: number }
  | { readonly kind: 'recreate'; readonly source: number; readonly table: number; readonly rows: number }
  | { readonly kind: 'publish'; readonly source: number; readonly table: number }
  /** ALTER PUBLICATION … DROP TABLE (list sources), once the reader has seen it leave. */
  | { readonly kind: 'unpublish'; readonly source: number; readonly table: number }
  | { readonly kind: 'resync'; readonly source: number; readonly table: number }
  | { readonly kind: 'kill'; readonly app: 'reader' | 'writer' | 'admin'; readonly source: number }
  /** Wait until the reader and the writer have taken in everything so far, so later changes meet applied state. */
  | { readonly kind: 'settle'; readonly source: number };

export interface GenerativePlan {
  readonly seed: number;
  readonly sources: SourcePlan[];
  readonly operations: Operation[];
  /** PHILOTES_ICEBERG_FORMAT_VERSION of the writer: from the start, or from its first restart on (an upgrade under SIGKILLs). */
  readonly formatVersion: { readonly start: 2 | 3; readonly afterWriterRestart: 2 | 3 };
}

export interface PlanLimits {
  readonly maxTables: number;
  readonly maxRows: number;
  readonly operations: number;
  readonly faults: number;
}

export const CI_LIMITS: PlanLimits = { maxTables: 4, maxRows: 30, operations: 30, faults: 2 };

/**
 * A seeded scenario: sources (two of them sharing table names, half the time), schemas and tables
 * with hostile names, 0/1/2/… rows, every key kind, some hash-partitioned; then DML, DDL, a table dropped and created
 * again, tables joining the publication, resyncs and SIGKILLs. The same seed, the same scenario.
 */
export function planScenario(seed: number, limits: PlanLimits = CI_LIMITS): GenerativePlan {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  let columnCounter = 0;
  const column = (): ColumnPlan => ({ name: random() < 0.3 ? `${pick(['c', 'Col', 'a.b', 'sp ace', 'é', '"q"'])}${columnCounter++}` : `c${columnCounter++}`, type: pick(COLUMN_TYPES) });

  const names = HOSTILE_NAMES.filter((n) => !n.startsWith('_cdc'));
  const sourceCount = random() < 0.5 ? 2 : 1;
  const shared: Array<{ schema: string; name: string }> = [];
  const tableCount = int(1, limits.maxTables);
  const schemas = ['public', pick(names)];
  for (let i = 0; i < tableCount; i++) {
    let entry: { schema: string; name: string };
    do entry = { schema: pick(schemas), name: pick(names) };
    while (shared.some((t) => t.schema === entry.schema && t.name === entry.name));
    shared.push(entry);
  }
  // Partitioning is drawn from a stream of its own, so a seed's other draws stay what they were.
  const partitionDraw = seededRandom(seed ^ 0x9a27);
  const sources: SourcePlan[] = [];
  for (let s = 0; s < sourceCount; s++) {
    const publication = random() < 0.5 ? 'all' : 'list';
    // The second source has the same schemas and tables (some of them): identities must not meet.
    const tables = shared
      .filter((_, i) => s === 0 || i % 2 === 0 || random() < 0.5)
      .map((t): TablePlan => {
        const rows = pick([0, 1, 2, int(3, limits.maxRows)]);
        return {
          ...t,
          key: pick(['pk', 'pk', 'full', 'none'] as const),
          columns: Array.from({ length: int(0, 3) }, column),
          rows,
          published: publication === 'all' || random() < 0.8,
          partitions: partitionDraw() < 0.3 ? 2 + Math.floor(partitionDraw() * 2) : 0,
        };
      });
    sources.push({ id: `s${s}_${seed % 1000}`, publication, tables });
  }

  const operations: Operation[] = [];
  let faults = 0;
  for (let i = 0; i < limits.operations; i++) {
    const source = int(0, sources.length - 1);
    const table = int(0, sources[source].tables.length - 1);
    const plan = sources[source].tables[table];
    const roll = random();
    if (random() < 0.2) operations.push({ kind: 'settle', source });
    if (faults < limits.faults && roll < 0.05) {
      operations.push({ kind: 'kill', app: pick(['reader', 'reader', 'writer', 'writer', 'admin'] as const), source });
      faults++;
    } else if (roll < 0.4 || plan.key === 'none') {
      operations.push(roll < 0.97 || plan.key !== 'none' ? { kind: 'insert', source, table, count: pick([1, 1, 2, 5, 20]) } : { kind: 'truncate', source, table });
    } else if (roll < 0.6) operations.push({ kind: 'update', source, table, keyChange: plan.key === 'pk' && random() < 0.3 });
    else if (roll < 0.72) operations.push({ kind: 'delete', source, table });
    else if (roll < 0.75) operations.push({ kind: 'truncate', source, table });
    else if (roll < 0.8) operations.push({ kind: 'add-column', source, table, column: column() });
    else if (roll < 0.83) operations.push({ kind: 'drop-column', source, table });
    else if (roll < 0.87) operations.push({ kind: 'recreate', source, table, rows: pick([0, 1, 2, int(3, limits.maxRows)]) });
    else if (roll < 0.9) operations.push({ kind: 'publish', source, table });
    else if (roll < 0.93) operations.push({ kind: 'unpublish', source, table });
    else operations.push({ kind: 'resync', source, table });
  }
  // By the seed alone (no draw moves), so any three seeds in a row have each: v2 throughout, v3
  // throughout, v2 then upgraded.
  const formatVersion = ([{ start: 2, afterWriterRestart: 2 }, { start: 3, afterWriterRestart: 3 }, { start: 2, afterWriterRestart: 3 }] as const)[seed % 3];
  return { seed, sources, operations, formatVersion };
}
