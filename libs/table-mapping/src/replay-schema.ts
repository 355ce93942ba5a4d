import { CdcValue, ColumnSchema, PgNumeric, UnchangedToast, ValueKind } from '@philotes/events';
import { DecodedEvent } from '@philotes/buffer';
import { PoisonValueError } from './type-mapping';

/**
 * A dead letter's values, captured under an older schema version, moved onto the table's current
 * one: the replay then writes the current schema, and never renames a live column (`x__before_1`)
 * or otherwise moves the Iceberg table back to the letter's shape. Columns match by name; a column
 * the letter lacks is NULL, one the table dropped since is left out. Values convert only where
 * the conversion is exact:
 *
 * | captured as            | now                    | value                                   |
 * | ---------------------- | ---------------------- | --------------------------------------- |
 * | the same kind          | the same kind          | as captured                             |
 * | int2                   | int4                   | as captured                             |
 * | int2, int4             | int8                   | the same integer                        |
 * | float4                 | float8                 | the single-precision value, widened     |
 * | int2, int4, int8       | numeric                | the same number                         |
 * | bool, integers, numeric, enum, uuid, json(b) | text | its text form, as PostgreSQL prints it |
 * | json                   | jsonb                  | the same document                       |
 * | anything else          |                        | refused: the letter fails again, saying so |
 */
export function ontoSchema(change: DecodedEvent, version: number, columns: readonly ColumnSchema[], table: string): DecodedEvent {
  if (change.schemaVersion === version) return change;
  const from = new Map(change.columns.map((column, index) => [column.name, { column, index }]));
  const move = (values: readonly CdcValue[] | undefined): CdcValue[] | undefined => {
    if (!values) return undefined;
    return columns.map((to) => {
      const captured = from.get(to.name);
      return captured ? convert(values[captured.index], captured.column, to, `${table}.${to.name}`) : null;
    });
  };
  const after = move(change.after);
  const before = move(change.before);
  return {
    ...change,
    schemaVersion: version,
    columns,
    ...(after ? { after } : {}),
    ...(before ? { before } : {}),
  };
}

const WIDER: ReadonlyArray<readonly [ValueKind, ValueKind]> = [
  ['int2', 'int4'],
  ['json', 'jsonb'],
];
/**
 * Kinds whose captured values print as PostgreSQL prints them: strings, integers, booleans and
 * decimals (floats are left out: JavaScript prints 1e-7 where PostgreSQL prints 1e-07).
 */
const PRINTABLE: ReadonlySet<ValueKind> = new Set(['bool', 'int2', 'int4', 'int8', 'numeric', 'enum', 'uuid', 'json', 'jsonb']);

function convert(value: CdcValue, from: ColumnSchema, to: ColumnSchema, qualified: string): CdcValue {
  if (value === null || value instanceof UnchangedToast) return value;
  if (from.kind === to.kind && (from.kind !== 'array' || from.element?.kind === to.element?.kind)) return value;
  if (WIDER.some(([a, b]) => a === from.kind && b === to.kind)) return value;
  if ((from.kind === 'int2' || from.kind === 'int4') && to.kind === 'int8') return BigInt(value as number);
  // real → double precision: PostgreSQL widens the single-precision value itself (0.1 becomes
  // 0.10000000149011612), not the decimal it printed.
  if (from.kind === 'float4' && to.kind === 'float8') return Math.fround(value as number);
  if ((from.kind === 'int2' || from.kind === 'int4' || from.kind === 'int8') && to.kind === 'numeric') return new PgNumeric(String(value));
  if (to.kind === 'text' && PRINTABLE.has(from.kind)) return value instanceof PgNumeric ? value.text : String(value);
  throw new PoisonValueError(
    qualified,
    `was ${from.typeName} when the change was captured and is ${to.typeName} now: no exact conversion`,
    'discard the dead letter, or resync the table to take its rows as they are now',
  );
}
