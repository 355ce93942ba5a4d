import { Client, Pool } from 'pg';
import { registeredTables, TableRef } from '@philotes/buffer';
import { icebergIdentifier } from '@philotes/table-mapping';
import { TableVerdict, verifyTable, VerifyDeps } from './table-verify';

export interface VerifyScope {
  /** Only this source's tables. */
  readonly source?: string;
  /** Only this table, as `schema.table`. */
  readonly table?: string;
}

/** Verifies every table the readers know (within the scope), one after another. */
export async function verifyPipeline(deps: VerifyDeps, scope: VerifyScope = {}): Promise<TableVerdict[]> {
  const tables = await withoutPartitionsOfRoots(deps, await knownTables(deps.buffer, scope));
  const verdicts: TableVerdict[] = [];
  for (const target of tables) verdicts.push(await verifyTable(deps, target));
  return verdicts;
}

/**
 * The tables to verify, less the partitions whose rows are verified under their root: pgoutput
 * describes a partition beside the root its changes stream under (publish_via_partition_root), so
 * the readers know it, but it has no Iceberg table of its own; a partition no publication lists
 * as itself, of the same source's table that has one, is not a table to compare.
 */
async function withoutPartitionsOfRoots(deps: VerifyDeps, targets: readonly TableRef[]): Promise<TableRef[]> {
  const mirrored = async (target: TableRef) => (await deps.tables.load(icebergIdentifier(deps.namespace, target))) !== undefined;
  const unmirrored = [];
  for (const target of targets) if (!(await mirrored(target))) unmirrored.push(target);
  if (unmirrored.length === 0) return [...targets];
  const source = new Client(deps.source);
  await source.connect();
  try {
    const skipped = new Set<TableRef>();
    for (const target of unmirrored) {
      // Its ancestors, unless a publication lists the partition as itself (published per leaf, it
      // is a table to compare, and a missing mirror of it is a difference to report).
      const { rows } = await source.query<{ schema: string; table: string }>(
        `SELECT n.nspname AS schema, c.relname AS table FROM pg_partition_ancestors(to_regclass(format('%I.%I', $1::text, $2::text))) a
           JOIN pg_class c ON c.oid = a.relid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.relid <> to_regclass(format('%I.%I', $1::text, $2::text))
            AND NOT EXISTS (SELECT 1 FROM pg_publication_tables pt WHERE pt.schemaname = $1 AND pt.tablename = $2)`,
        [target.schema, target.table],
      );
      const roots = targets.filter((t) => t.sourceId === target.sourceId && rows.some((r) => r.schema === t.schema && r.table === t.table));
      for (const root of roots) {
        if (await mirrored(root)) {
          skipped.add(target);
          break;
        }
      }
    }
    return targets.filter((t) => !skipped.has(t));
  } finally {
    await source.end();
  }
}

async function knownTables(buffer: Pool, scope: VerifyScope) {
  const [schema, table] = scope.table ? splitName(scope.table) : [undefined, undefined];
  return registeredTables(buffer, { source: scope.source, schema, table });
}

function splitName(name: string): [string, string] {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) throw new Error(`--table must be schema.table, got "${name}"`);
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** How many examples of each kind of difference a report lists (all are counted). */
const EXAMPLES = 10;

/** A readable report: one line per table, then the differences, with the dead letters that explain them. */
export function formatReport(verdicts: readonly TableVerdict[]): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    if (v.notCompared) {
      lines.push(`✗ ${v.table}: not compared — ${NOT_READY[v.notCompared]}`);
      continue;
    }
    const at = v.snapshotId === undefined ? '' : ` at snapshot ${v.snapshotId} (source position ${v.sourceLsn})`;
    const counts = `source ${v.sourceRows} rows, iceberg ${v.icebergRows} rows`;
    const index = v.keyIndex ? `; ${keyIndexLine(v.keyIndex)}` : '';
    if (v.ok) {
      lines.push(`✓ ${v.table} (${v.mode})${at}: ${counts}, no differences${index}`);
      continue;
    }
    const kinds = (['missing', 'extra', 'different', 'duplicated'] as const).filter((k) => v[k].length > 0);
    lines.push(`✗ ${v.table} (${v.mode})${at}: ${counts}; ${kinds.length > 0 ? kinds.map((k) => `${v[k].length} ${k}`).join(', ') : 'rows match'}${index}`);
    for (const kind of kinds) {
      for (const d of v[kind].slice(0, EXAMPLES)) {
        const columns = d.columns && d.columns.length > 0 ? ` (${d.columns.join(', ')})` : '';
        const letter = d.deadLetter ? ` — dead letter ${d.deadLetter.id}, ${d.deadLetter.status}` : '';
        lines.push(`    ${kind.padEnd(10)} ${printableKey(d.key)}${columns}${letter}`);
      }
      if (v[kind].length > EXAMPLES) lines.push(`    … and ${v[kind].length - EXAMPLES} more ${kind}`);
    }
  }
  const failed = verdicts.filter((v) => !v.ok).length;
  lines.push(failed === 0 ? `${verdicts.length} tables verified: no differences.` : `${failed} of ${verdicts.length} tables differ or could not be compared.`);
  return lines.join('\n');
}

function keyIndexLine(check: NonNullable<TableVerdict['keyIndex']>): string {
  if ('problem' in check) return `key index: ${check.problem}`;
  if (check.ok) return `key index matches the files at snapshot ${check.snapshotId}`;
  return `key index at snapshot ${check.snapshotId}: ${check.missing} keys missing, ${check.misplaced} misplaced, ${check.extra} extra (the writer rebuilds it when its snapshot is not the table's; resync the table if it persists)`;
}

const NOT_READY: Record<NonNullable<TableVerdict['notCompared']>, string> = {
  'reader-behind': 'the reader has not stored the source up to now (is it running?)',
  'writer-behind': 'the writers have not applied the table up to now (are they running? the table paused?)',
  ambiguous: 'the table changed at every attempt while the source snapshot was taken; retry when writes slow down',
  'no-matching-snapshot': 'no retained Iceberg snapshot holds exactly the source point; retry when writes slow down',
};

/** Key cells as they are (the writer's key form: type-tagged parts joined by NUL). */
function printableKey(key: string): string {
  return key.split('\u0000').map((part) => part.replace(/^(number|string|boolean):/, '')).join(', ');
}
