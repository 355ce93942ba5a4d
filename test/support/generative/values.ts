import { ColumnType } from './plan';

/** The floats whose text forms differ most between systems. */
const FLOATS = ['0', '-0', 'NaN', 'Infinity', '-Infinity', '0.1', '1e+20', '1.7976931348623157e+308', '5e-324', '-123456.789'];

const TEXTS = ['', 'plain', "it's", 'quote"d', 'back\\slash', 'é日本🦆', 'null', 'NULL', ' lead', 'tab\tand\nnewline', '{"not": "json"}'];

/** A value of `type` as PostgreSQL text input (null: SQL NULL), drawn from `random`. */
export function randomValue(type: ColumnType, random: () => number): string | null {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  if (random() < 0.1) return null;
  switch (type) {
    case 'int8':
      return pick(['0', '-9223372036854775808', '9223372036854775807', String(Math.floor((random() - 0.5) * 2e12))]);
    case 'text':
      // Now and then large enough to be TOASTed: an update that leaves it alone does not send it.
      return random() < 0.1 ? randomBytesFrom(random, 1500) : pick(TEXTS) + (random() < 0.5 ? String(Math.floor(random() * 1000)) : '');
    case 'numeric(12,2)':
      return ((random() - 0.5) * 2e8).toFixed(2);
    case 'bool':
      return random() < 0.5 ? 'true' : 'false';
    case 'date':
      return new Date(Date.UTC(1900 + Math.floor(random() * 200), Math.floor(random() * 12), 1 + Math.floor(random() * 28))).toISOString().slice(0, 10);
    case 'timestamptz':
      return `${new Date(Math.floor((random() - 0.3) * 4e12)).toISOString().slice(0, 19)}.${String(Math.floor(random() * 1e6)).padStart(6, '0')}+00`;
    case 'timestamp':
      return `${new Date(Math.floor((random() - 0.3) * 4e12)).toISOString().slice(0, 19).replace('T', ' ')}.${String(Math.floor(random() * 1e6)).padStart(6, '0')}`;
    case 'float8':
      return random() < 0.3 ? pick(FLOATS) : String((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
    case 'interval': {
      const part = (max: number) => Math.floor((random() - 0.3) * max);
      const fraction = random() < 0.5 ? `.${String(Math.floor(random() * 1e6)).padStart(6, '0')}` : '';
      return random() < 0.1 ? '0' : `${part(30)} years ${part(13)} mons ${part(40)} days ${part(30)}:${Math.abs(part(60))}:${Math.abs(part(60))}${fraction}`;
    }
    case 'uuid':
      return [8, 4, 4, 4, 12].map((n) => randomBytesFrom(random, n / 2)).join('-');
    case 'jsonb':
      return JSON.stringify({ k: pick(TEXTS), n: Math.floor(random() * 100), list: [1, null, pick(TEXTS)] });
    case 'bytea':
      return `\\x${randomBytesFrom(random, Math.floor(random() * 20))}`;
    case 'int4[]':
      return `{${Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.2 ? 'NULL' : String(Math.floor((random() - 0.5) * 1e6)))).join(',')}}`;
  }
}

function randomBytesFrom(random: () => number, count: number): string {
  return Array.from({ length: count }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('');
}

/** SQL turning source column `c` (a quoted identifier) of `type` into the text both sides compare. */
export function sourceCanonical(type: ColumnType | 'int8-id', column: string): string {
  switch (type) {
    case 'timestamptz':
    case 'timestamp':
      return `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
    case 'bytea':
      return `encode(${column}, 'hex')`;
    case 'int4[]':
      return `array_to_json(${column})::text`;
    default:
      return `${column}::text`;
  }
}

/** DuckDB SQL turning a Parquet column of Iceberg type `type` into the same text. */
export function icebergCanonical(type: unknown): (column: string) => string {
  if (typeof type === 'object' && type !== null) return (c) => `to_json(${c})::VARCHAR`;
  switch (type) {
    case 'timestamptz':
    case 'timestamp':
      return (c) => `epoch_us(${c})::VARCHAR`;
    case 'double':
      return (c) => `CASE WHEN isnan(${c}) THEN 'NaN' WHEN isinf(${c}) AND ${c} > 0 THEN 'Infinity' WHEN isinf(${c}) THEN '-Infinity' ELSE ${c}::VARCHAR END`;
    case 'binary':
      return (c) => `lower(hex(${c}))`;
    default:
      return (c) => `${c}::VARCHAR`;
  }
}

/**
 * The text both sides compare, where their SQL alone cannot agree: a float printed by PostgreSQL
 * (`1e+20`) and by DuckDB (`100000000000000000000.0`) is the same double.
 */
export function comparableCell(type: ColumnType | 'int8-id', cell: string | null): string | null {
  if (cell === null || type !== 'float8' || cell === 'NaN' || cell.endsWith('Infinity')) return cell;
  return String(Number(cell));
}
