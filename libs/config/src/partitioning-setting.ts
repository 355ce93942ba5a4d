/**
 * PHILOTES_ICEBERG_PARTITIONING: the partition spec of chosen tables, e.g.
 * `public.payment=month(payment_date);public.events=bucket(16,id),day(ts)`. Tables are separated
 * by `;`, fields by `,`; a field is `transform(column)`, `bucket(N,column)`, `truncate(W,column)`
 * or a bare column (identity). Any name may be double-quoted, `""` standing for a quote, so names
 * with dots, commas, `=`, `;`, parentheses or spaces can be written. `schema.table=` (no field)
 * leaves that table unpartitioned whatever the source suggests.
 */
export interface PartitioningEntry {
  readonly schema: string;
  readonly table: string;
  /** In order; `transform` as Iceberg's metadata writes it: identity, bucket[16], truncate[4], month, ... */
  readonly fields: ReadonlyArray<{ readonly column: string; readonly transform: string }>;
}

const TRANSFORMS = new Set(['identity', 'bucket', 'truncate', 'year', 'month', 'day', 'hour', 'void']);
const MAX_INT = 2 ** 31 - 1;

/** Thrown with the rule the text broke, phrased to follow "VARIABLE=value: ". */
class PartitioningSyntaxError extends Error {}

export function parsePartitioning(text: string): PartitioningEntry[] {
  let at = 0;
  const fail = (what: string): never => {
    throw new PartitioningSyntaxError(
      `${what} at character ${at + 1}; write schema.table=transform(column),... with tables separated by ';' (transforms: identity, bucket(N,col), truncate(W,col), year, month, day, hour, void; quote names with "")`,
    );
  };
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const peek = () => {
    skipSpace();
    return text[at];
  };
  const expect = (ch: string) => {
    if (peek() !== ch) fail(`expected '${ch}'`);
    at++;
  };
  const name = (what: string): string => {
    skipSpace();
    if (text[at] === '"') {
      let out = '';
      at++;
      for (;;) {
        if (at >= text.length) fail(`unterminated quoted ${what}`);
        if (text[at] === '"') {
          if (text[at + 1] === '"') {
            out += '"';
            at += 2;
            continue;
          }
          at++;
          break;
        }
        out += text[at++];
      }
      if (out === '') fail(`empty quoted ${what}`);
      return out;
    }
    const start = at;
    while (at < text.length && !/[\s.,;=()"]/.test(text[at])) at++;
    if (at === start) fail(`expected a ${what}`);
    return text.slice(start, at);
  };
  const size = (transform: string): number => {
    skipSpace();
    const match = /^\d+/.exec(text.slice(at));
    if (!match) fail(`${transform} needs a whole number first`);
    const value = Number(match![0]);
    if (value < 1 || value > MAX_INT) fail(`${transform}'s number must be between 1 and ${MAX_INT}`);
    at += match![0].length;
    return value;
  };
  const field = (): { column: string; transform: string } => {
    const quoted = peek() === '"';
    const start = at;
    const first = name('column');
    if (quoted || peek() !== '(') return { column: first, transform: 'identity' };
    if (!TRANSFORMS.has(first)) {
      at = start;
      fail(`unknown transform ${first}`);
    }
    expect('(');
    let transform = first;
    if (first === 'bucket' || first === 'truncate') {
      transform = `${first}[${size(first)}]`;
      expect(',');
    }
    const column = name('column');
    expect(')');
    return { column, transform };
  };

  const entries: PartitioningEntry[] = [];
  const seen = new Set<string>();
  for (;;) {
    while (peek() === ';') at++;
    if (at >= text.length) break;
    const schema = name('schema name');
    expect('.');
    const table = name('table name');
    expect('=');
    const key = JSON.stringify([schema, table]);
    if (seen.has(key)) fail(`table ${schema}.${table} is listed twice`);
    seen.add(key);
    const fields: Array<{ column: string; transform: string }> = [];
    if (peek() !== ';' && at < text.length) {
      for (;;) {
        fields.push(field());
        if (peek() !== ',') break;
        at++;
      }
    }
    if (at < text.length && peek() !== ';') fail("expected ',' or ';'");
    entries.push({ schema, table, fields });
  }
  return entries;
}

/** The setting's parser (see setting.ts): the entries, or the rule the text broke. */
export function parsePartitioningSetting(text: string): { value: PartitioningEntry[] } | { rule: string } {
  try {
    return { value: parsePartitioning(text) };
  } catch (error) {
    if (error instanceof PartitioningSyntaxError) return { rule: error.message };
    throw error;
  }
}
