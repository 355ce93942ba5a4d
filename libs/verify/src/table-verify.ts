import { EventReader, expectedEventPositions, oldestRetainedLsn, PostgresDeadLetterStore } from '@philotes/buffer';
import { ClientConfig, CustomTypesConfig, Pool, QueryArrayConfig } from 'pg';
import { ColumnSchema } from '@philotes/events';
import { currentSchema, IcebergTables, LoadedTable, NestedField, SnapshotId, snapshotRows } from '@philotes/iceberg';
import { textParser } from '@philotes/pg-types';
// The writer's own mapping, by module: the sink's barrel also brings the writer service and its Nest metrics.
import { icebergIdentifier, planLayout, PoisonValueError, rowKey, TableLayout, TableMode, Unrepresentable } from '@philotes/table-mapping';
import { checkKeyIndex, deletesByPosition, KeyIndexCheck } from '@philotes/writer';
import { BucketSums, cellText, rowText } from './canonical';
import { closeSourcePoint, comparablePoint, NotReady, openSourcePoint, SourcePoint } from './consistent-point';

export interface VerifyTarget {
  readonly tableId: number;
  readonly sourceId: string;
  readonly schema: string;
  readonly table: string;
}

export interface VerifyDeps {
  /** The source database (connection string or parts, as `pg` takes them). */
  readonly source: ClientConfig;
  readonly buffer: Pool;
  readonly tables: IcebergTables;
  readonly namespace: string;
  readonly textColumns: ReadonlySet<string>;
  readonly unrepresentable: Unrepresentable;
  /** How long to wait for the pipeline to reach a comparable point. */
  readonly timeoutMs: number;
  /** Also compare the key index of each table deleting by position with the table's files. */
  readonly checkKeyIndex?: boolean;
}

export interface KeyDifference {
  readonly key: string;
  /** Columns whose values differ ('different' only). */
  readonly columns?: readonly string[];
  /** An open or settled dead letter of this row explains it. */
  readonly deadLetter?: { readonly id: string; readonly status: string };
}

export interface TableVerdict {
  readonly table: string;
  readonly mode: TableMode | 'none';
  /** The Iceberg snapshot compared and the source position it holds. */
  readonly snapshotId?: SnapshotId;
  readonly sourceLsn?: string;
  readonly sourceRows: number;
  readonly icebergRows: number;
  readonly missing: readonly KeyDifference[];
  readonly extra: readonly KeyDifference[];
  readonly different: readonly KeyDifference[];
  readonly duplicated: readonly KeyDifference[];
  /** Set when no comparable point was reached in time: the table was not compared. */
  readonly notCompared?: NotReady;
  /** With checkKeyIndex, for a table deleting by position: its key index against its files. */
  readonly keyIndex?: KeyIndexCheck;
  readonly ok: boolean;
}

/** Key ranges (buckets) hold about this many rows each. */
const ROWS_PER_BUCKET = 2_000;
const FETCH = 5_000;

/**
 * Compares a source table with its Iceberg mirror at a consistent point. Both sides are summed
 * per key range (bucket of the key's hash); only ranges that differ are read again and compared
 * key by key, so memory holds the differing ranges, never the table. Append tables are compared
 * by folding their change log to each key's last state (tables with a key), and always by checking
 * that every buffered event is in the log exactly once.
 */
export async function verifyTable(deps: VerifyDeps, target: VerifyTarget): Promise<TableVerdict> {
  const name = `${target.schema}.${target.table}`;
  const deadline = Date.now() + deps.timeoutMs;
  let last: NotReady | undefined;
  let point: SourcePoint | undefined;
  try {
    for (;;) {
      point ??= await openSourcePoint(deps.source);
      const id = icebergIdentifier(deps.namespace, target);
      const table = await deps.tables.load(id);
      const found = await comparablePoint(deps.buffer, target.sourceId, target.tableId, point, table);
      if (found === 'empty') return await compareWithoutTable(point, target, name);
      if (typeof found !== 'string') return await compare(deps, target, point, table!, found.snapshot['snapshot-id'], found.sourceLsn);
      last = found;
      // A reader or writer behind this point only needs time, so the point stays: a new one each
      // attempt would always lie a little ahead of them (the buffer's own commits are WAL too, when
      // it shares the source's server). A table that changed inside the point's window, or
      // snapshots that went past it, need a new point.
      if (found === 'ambiguous' || found === 'no-matching-snapshot') {
        await closeSourcePoint(point);
        point = undefined;
      }
      if (Date.now() > deadline) return { table: name, mode: 'none', sourceRows: 0, icebergRows: 0, missing: [], extra: [], different: [], duplicated: [], notCompared: last, ok: false };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    if (point) await closeSourcePoint(point);
  }
}

async function compareWithoutTable(point: SourcePoint, target: VerifyTarget, name: string): Promise<TableVerdict> {
  const { rows } = await point.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(target.schema)}.${quoted(target.table)}`);
  const n = rows[0].n;
  return { table: name, mode: 'none', sourceRows: n, icebergRows: 0, missing: n > 0 ? [{ key: `(${n} rows; no Iceberg table)` }] : [], extra: [], different: [], duplicated: [], ok: n === 0 };
}

interface Side {
  readonly fields: readonly NestedField[];
  readonly compared: readonly number[];
  readonly keyIndexes: readonly number[];
}

async function compare(deps: VerifyDeps, target: VerifyTarget, point: SourcePoint, table: LoadedTable, snapshotId: SnapshotId, sourceLsn: string): Promise<TableVerdict> {
  const name = `${target.schema}.${target.table}`;
  const changes = new EventReader(deps.buffer);
  const version = await changes.latestVersion(target.tableId);
  const columns = version === undefined ? [] : (await changes.version(target.tableId, version)).columns;
  const mode = (table.metadata.properties['philotes.mode'] as TableMode | undefined) ?? 'upsert';
  const layout = planLayout({
    table: name,
    columns,
    mode,
    current: currentSchema(table.metadata),
    lastColumnId: table.metadata['last-column-id'],
    asText: new Set(columns.map((c) => c.name).filter((c) => deps.textColumns.has(`${name}.${c}`))),
    unrepresentable: deps.unrepresentable,
  });
  const fields = layout.schema.fields;
  const side: Side = {
    fields,
    compared: layout.placements.map((p) => fields.indexOf(p.field)),
    keyIndexes: layout.keyFields.map((f) => fields.indexOf(f)),
  };
  const source = new SourceRows(point, target, columns, layout);
  const iceberg = () => snapshotRows(deps.tables, table.metadata, snapshotId, fields);
  const base = { table: name, mode, snapshotId, sourceLsn };
  if (mode === 'append') return { ...base, ...(await compareChangelog(deps, target, side, layout, source, iceberg, sourceLsn)) };
  const mirror = await compareMirror(deps, target, side, source, iceberg);
  if (!deps.checkKeyIndex || !deletesByPosition(table.metadata)) return { ...base, ...mirror };
  const keyIndex = await checkKeyIndex(deps.buffer, deps.tables, target.tableId, table.id);
  return { ...base, ...mirror, keyIndex, ok: mirror.ok && keyIndex.ok };
}

type Counts = Omit<TableVerdict, 'table' | 'mode' | 'snapshotId' | 'sourceLsn'>;

/** Upsert tables: the snapshot's rows against the source's, by key range then key. */
async function compareMirror(deps: VerifyDeps, target: VerifyTarget, side: Side, source: SourceRows, iceberg: () => AsyncGenerator<unknown[]>): Promise<Counts> {
  const sourceCount = await source.count();
  const buckets = Math.min(8192, Math.max(1, Math.ceil(sourceCount / ROWS_PER_BUCKET)));
  const sourceSums = new BucketSums(buckets);
  for await (const row of source.rows()) sourceSums.add(row.key, row.text);
  const icebergSums = new BucketSums(buckets);
  let icebergCount = 0;
  for await (const row of iceberg()) {
    icebergCount++;
    icebergSums.add(rowKey(row, side.keyIndexes), rowText(row, side.fields, side.compared));
  }
  const differing = sourceSums.differing(icebergSums);
  const result = { sourceRows: sourceCount, icebergRows: icebergCount, missing: [] as KeyDifference[], extra: [] as KeyDifference[], different: [] as KeyDifference[], duplicated: [] as KeyDifference[] };
  if (differing.size === 0) return { ...result, ok: true };

  // Second pass over the differing ranges only, key by key.
  const inRange = (key: string) => differing.has(BucketSums.bucketOf(key, buckets));
  const fromSource = new Map<string, { text: string; cells: string[] }>();
  for await (const row of source.rows()) if (inRange(row.key)) fromSource.set(row.key, { text: row.text, cells: row.cells });
  const fromIceberg = new Map<string, Array<{ text: string; cells: string[] }>>();
  for await (const row of iceberg()) {
    const key = rowKey(row, side.keyIndexes);
    if (!inRange(key)) continue;
    const cells = side.compared.map((i) => cellText(row[i], side.fields[i].type));
    const list = fromIceberg.get(key) ?? [];
    list.push({ text: cells.join('\u0000'), cells });
    fromIceberg.set(key, list);
  }
  const names = side.compared.map((i) => side.fields[i].name);
  for (const [key, expected] of fromSource) {
    const found = fromIceberg.get(key);
    if (!found) result.missing.push({ key });
    else {
      if (found.length > 1) result.duplicated.push({ key });
      if (!found.some((f) => f.text === expected.text)) result.different.push({ key, columns: names.filter((_, i) => expected.cells[i] !== found[0].cells[i]) });
    }
  }
  for (const key of fromIceberg.keys()) if (!fromSource.has(key)) result.extra.push({ key });
  await explainByDeadLetters(deps.buffer, target.tableId, [...result.missing, ...result.different, ...result.extra]);
  return { ...result, ok: false };
}

/**
 * Append tables: every buffered event of the table up to the snapshot's position is a row of the
 * log exactly once (dead letters aside), and — with a key — folding the log gives the source's rows.
 */
async function compareChangelog(
  deps: VerifyDeps,
  target: VerifyTarget,
  side: Side,
  layout: TableLayout,
  source: SourceRows,
  iceberg: () => AsyncGenerator<unknown[]>,
  sourceLsn: string,
): Promise<Counts> {
  const cdc = layout.cdcFields!;
  const [op, lsn, seq] = [cdc._cdc_op, cdc._cdc_lsn, cdc._cdc_seq].map((f) => side.fields.indexOf(f));
  const seen = new Map<string, number>();
  const latest = new Map<string, { position: [bigint, bigint]; text: string; deleted: boolean }>();
  let truncatedAt: [bigint, bigint] | undefined;
  let icebergCount = 0;
  const keyed = side.keyIndexes.length > 0;
  for await (const row of iceberg()) {
    icebergCount++;
    const position: [bigint, bigint] = [BigInt(row[lsn] as bigint), BigInt(row[seq] as bigint)];
    const id = `${position[0]}/${position[1]}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (row[op] === 'T') {
      if (!truncatedAt || later(position, truncatedAt)) truncatedAt = position;
      continue;
    }
    if (!keyed) continue;
    const key = rowKey(row, side.keyIndexes);
    const previous = latest.get(key);
    if (!previous || later(position, previous.position)) latest.set(key, { position, text: rowText(row, side.fields, side.compared), deleted: row[op] === 'D' });
  }
  const result = { sourceRows: 0, icebergRows: icebergCount, missing: [] as KeyDifference[], extra: [] as KeyDifference[], different: [] as KeyDifference[], duplicated: [] as KeyDifference[] };
  for (const [id, count] of seen) if (count > 1) result.duplicated.push({ key: `event ${id}` });

  // Every buffered event up to the position, once (those in the dead letters excepted, unless replayed).
  const events = await expectedEventPositions(deps.buffer, target.tableId, sourceLsn);
  for (const event of events) {
    const id = `${event.lsn}/${event.seq}`;
    if (!seen.has(id)) result.missing.push({ key: `event ${id}` });
    seen.delete(id);
  }
  // What is left is in the log but not in the buffer: rows from events retention removed, or extra.
  const retainedFrom = await oldestRetainedLsn(deps.buffer, target.tableId);
  for (const id of seen.keys()) {
    const eventLsn = BigInt(id.split('/')[0]);
    if (retainedFrom === undefined || eventLsn >= retainedFrom) result.extra.push({ key: `event ${id}` });
  }

  if (keyed) {
    for await (const row of source.rows()) {
      result.sourceRows++;
      const entry = latest.get(row.key);
      const live = entry && !entry.deleted && !(truncatedAt && later(truncatedAt, entry.position));
      if (!live) result.missing.push({ key: row.key });
      else if (entry.text !== row.text) result.different.push({ key: row.key });
      latest.delete(row.key);
    }
    for (const [key, entry] of latest) if (!entry.deleted && !(truncatedAt && later(truncatedAt, entry.position))) result.extra.push({ key });
    await explainByDeadLetters(deps.buffer, target.tableId, [...result.missing, ...result.different]);
  } else {
    result.sourceRows = await source.count();
  }
  const ok = result.missing.length + result.extra.length + result.different.length + result.duplicated.length === 0;
  return { ...result, ok };
}

function later(a: readonly [bigint, bigint], b: readonly [bigint, bigint]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/** Notes the dead letter of each differing row, where one exists (an expected difference until replayed). */
async function explainByDeadLetters(buffer: Pool, tableId: number, differences: KeyDifference[]): Promise<void> {
  if (differences.length === 0) return;
  const byKey = await new PostgresDeadLetterStore(buffer).newestByKey(tableId, differences.map((d) => d.key));
  for (const difference of differences) {
    const letter = byKey.get(difference.key);
    if (letter) (difference as { deadLetter?: KeyDifference['deadLetter'] }).deadLetter = letter;
  }
}

/** The source table's rows in the snapshot, as the writer would map them. */
class SourceRows {
  private readonly parsers;

  constructor(
    private readonly point: SourcePoint,
    private readonly target: VerifyTarget,
    private readonly columns: readonly ColumnSchema[],
    private readonly layout: TableLayout,
  ) {
    this.parsers = columns.map((c) => textParser(c.kind, c.element?.kind));
  }

  async count(): Promise<number> {
    const { rows } = await this.point.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.from()}`);
    return rows[0].n;
  }

  /** Streams the rows through a cursor: key, compared cells and their joined text. */
  async *rows(): AsyncGenerator<{ key: string; text: string; cells: string[] }> {
    const { client } = this.point;
    const list = this.columns.map((c) => quoted(c.name)).join(', ');
    await client.query(`DECLARE philotes_verify NO SCROLL CURSOR FOR SELECT ${list} FROM ${this.from()}`);
    const fields = this.layout.schema.fields;
    const placed = this.layout.placements.map((p) => fields.indexOf(p.field));
    const keyIndexes = this.layout.keyFields.map((f) => fields.indexOf(f));
    try {
      for (;;) {
        // Raw text, parsed as the reader parses pgoutput's text values.
        const fetch: QueryArrayConfig = { text: `FETCH ${FETCH} FROM philotes_verify`, rowMode: 'array', types: { getTypeParser: () => (value: string) => value } as unknown as CustomTypesConfig };
        const { rows } = await client.query<Array<string | null>>(fetch);
        if (rows.length === 0) return;
        for (const raw of rows) {
          const row = new Array<unknown>(fields.length).fill(null);
          let poison: string | undefined;
          this.layout.placements.forEach((placement, i) => {
            const text = raw[i];
            try {
              row[placed[i]] = placement.convert(text === null ? null : this.parsers[i](text));
            } catch (error) {
              if (!(error instanceof PoisonValueError)) throw error;
              poison = placement.field.name;
            }
          });
          const key = rowKey(row, keyIndexes);
          const cells = placed.map((i) => cellText(row[i], fields[i].type));
          // A value the writer cannot write never matches: the row differs, and says why.
          if (poison !== undefined) cells[this.layout.placements.findIndex((p) => p.field.name === poison)] = '<unwritable>';
          yield { key, text: cells.join('\u0000'), cells };
        }
      }
    } finally {
      await client.query('CLOSE philotes_verify');
    }
  }

  private from(): string {
    return `${quoted(this.target.schema)}.${quoted(this.target.table)}`;
  }
}

function quoted(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
