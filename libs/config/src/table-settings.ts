/**
 * Per-table settings written as `schema.table<sep>body;schema.table<sep>body`. A name may be
 * double-quoted, `""` standing for a quote, so any PostgreSQL name (dots, `:`, `;`, `=`, unicode)
 * can be written: `"my.schema"."odd;name":write.parquet.compression-codec=zstd`.
 */

export interface TableName {
  readonly schema: string;
  readonly table: string;
}

export interface TablePropertiesEntry extends TableName {
  readonly properties: Readonly<Record<string, string>>;
}

export interface SortColumnEntry {
  readonly column: string;
  /** An Iceberg transform of the column, as metadata writes it (`bucket[16]`, `day`); absent: identity. */
  readonly transform?: string;
  readonly direction: 'asc' | 'desc';
  readonly nullOrder: 'nulls-first' | 'nulls-last';
}

export interface SortOrderEntry extends TableName {
  readonly fields: readonly SortColumnEntry[];
}

class SyntaxProblem extends Error {}

/** A cursor over the text; `word` reads a quoted name or a bare run up to one of `stops`. */
class Scanner {
  private pos = 0;
  constructor(private readonly text: string) {}

  get done(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  eat(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  expect(ch: string): void {
    if (!this.eat(ch)) this.fail(`expected "${ch}"`);
  }

  word(stops: string, what: string): string {
    this.skipSpace();
    if (this.text[this.pos] === '"') {
      let out = '';
      for (this.pos++; ; this.pos++) {
        if (this.pos >= this.text.length) this.fail(`unterminated quoted ${what}`);
        if (this.text[this.pos] === '"') {
          if (this.text[this.pos + 1] !== '"') break;
          this.pos++;
        }
        out += this.text[this.pos];
      }
      this.pos++;
      if (out === '') this.fail(`empty ${what}`);
      return out;
    }
    const start = this.pos;
    while (this.pos < this.text.length && !stops.includes(this.text[this.pos]) && this.text[this.pos] !== '"') this.pos++;
    const bare = this.text.slice(start, this.pos).trim();
    if (bare === '') this.fail(`expected a ${what}`);
    // A space inside is most likely a missing separator; a name or value that has one is quoted.
    if (/\s/.test(bare)) this.fail(`unquoted ${what} ${JSON.stringify(bare)} holds a space (quote it, or a separator is missing)`);
    return bare;
  }

  /** Text up to one of `stops` outside parentheses (a transform's arguments hold commas); may be empty. */
  rest(stops: string): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length && (depth > 0 || !stops.includes(this.text[this.pos]))) {
      if (this.text[this.pos] === '"') {
        // A quoted name is an argument of a transform, `bucket(4, "a,b")`, and stays as written.
        if (depth === 0) this.fail('unexpected quote');
        let end = this.pos + 1;
        for (;;) {
          if (end >= this.text.length) this.fail('unterminated quoted column name');
          if (this.text[end] === '"' && this.text[end + 1] === '"') end += 2;
          else if (this.text[end] === '"') break;
          else end++;
        }
        end++;
        this.pos = end;
        continue;
      }
      depth += this.text[this.pos] === '(' ? 1 : this.text[this.pos] === ')' ? -1 : 0;
      this.pos++;
    }
    return this.text.slice(start, this.pos).trim();
  }

  fail(problem: string): never {
    throw new SyntaxProblem(`${problem} at character ${this.pos + 1}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
}

function tableName(scanner: Scanner, stops: string): TableName {
  const schema = scanner.word(`.${stops}`, 'schema name');
  scanner.expect('.');
  const table = scanner.word(stops, 'table name');
  return { schema, table };
}

/** The entries, or the rule the text broke (phrased to follow "VARIABLE=value: "). */
function entries<T extends TableName>(raw: string, separator: string, form: string, body: (scanner: Scanner, name: TableName) => T): { value: T[] } | { rule: string } {
  const scanner = new Scanner(raw);
  const found: T[] = [];
  const seen = new Set<string>();
  try {
    while (!scanner.done) {
      const name = tableName(scanner, `${separator};`);
      scanner.expect(separator);
      const key = JSON.stringify([name.schema, name.table]);
      if (seen.has(key)) return { rule: `must name each table once (${name.schema}.${name.table} is listed twice)` };
      seen.add(key);
      found.push(body(scanner, name));
      if (!scanner.done) scanner.expect(';');
    }
  } catch (error) {
    if (error instanceof SyntaxProblem) return { rule: `must list ${form}, tables separated by ";" (${error.message})` };
    throw error;
  }
  return { value: found };
}

/**
 * Iceberg's reserved properties (Java TableProperties.RESERVED_PROPERTIES): they describe the
 * metadata itself and no writer may set them as properties.
 */
const RESERVED = new Set(['format-version', 'uuid', 'snapshot-count', 'current-snapshot-id', 'current-snapshot-summary', 'current-snapshot-timestamp-ms', 'current-schema', 'default-partition-spec', 'default-sort-order']);

const CODEC_LEVELS: Readonly<Record<string, readonly [number, number] | undefined>> = { zstd: [1, 22], gzip: [0, 9], brotli: [0, 11], snappy: undefined, uncompressed: undefined };
const SIZE_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  'write.parquet.row-group-size-bytes': [1024, 2 * 1024 ** 3],
  'write.parquet.page-size-bytes': [64, 1024 ** 3],
  'write.target-file-size-bytes': [1024, 4 * 1024 ** 3],
};

/** Why a property cannot be set, or undefined when it can. `properties` is the whole entry (a level needs its codec). */
export function propertyProblem(name: string, value: string, properties: Readonly<Record<string, string>>): string | undefined {
  // The one reserved name a table entry may set: it becomes the metadata's format version, as
  // Spark's SET TBLPROPERTIES ('format-version'=...) upgrades a table, never a property.
  if (name === 'format-version') return value === '2' || value === '3' ? undefined : 'format-version must be 2 or 3';
  if (RESERVED.has(name)) return `${name} is reserved by Iceberg`;
  if (name.startsWith('philotes.')) return `${name}: philotes.* properties are Philotes' own bookkeeping`;
  if (name === 'write.format.default' && value !== 'parquet') return 'write.format.default must be parquet (the only format Philotes writes)';
  if (name === 'write.parquet.compression-codec' && !(value in CODEC_LEVELS)) return `${name} must be one of ${Object.keys(CODEC_LEVELS).join(', ')}`;
  if (name === 'write.parquet.compression-level') {
    const codec = properties['write.parquet.compression-codec'];
    const range = codec === undefined ? undefined : CODEC_LEVELS[codec];
    if (codec === undefined) return `${name} needs write.parquet.compression-codec in the same table entry`;
    if (!range) return `${name}: ${codec} takes no level`;
    if (!/^\d+$/.test(value) || Number(value) < range[0] || Number(value) > range[1]) return `${name} must be between ${range[0]} and ${range[1]} for ${codec}`;
  }
  const size = SIZE_RANGES[name];
  if (size && (!/^\d+$/.test(value) || Number(value) < size[0] || Number(value) > size[1])) return `${name} must be a number of bytes between ${size[0]} and ${size[1]}`;
  return undefined;
}

/** `public.events:write.parquet.compression-codec=zstd,write.parquet.compression-level=9;public.t:...` */
export function parseTableProperties(raw: string): { value: TablePropertiesEntry[] } | { rule: string } {
  let problem: string | undefined;
  const parsed = entries(raw, ':', 'schema.table:property=value,...', (scanner, name) => {
    const properties: Record<string, string> = {};
    do {
      const key = scanner.word('=,;', 'property name');
      scanner.expect('=');
      properties[key] = key === 'write.parquet.compression-codec' ? scanner.word(',;', 'value').toLowerCase() : scanner.word(',;', 'value');
    } while (scanner.eat(','));
    for (const [key, value] of Object.entries(properties)) problem ??= propertyProblem(key, value, properties);
    return { ...name, properties };
  });
  return problem && 'value' in parsed ? { rule: `must set no reserved or invalid property: ${problem}` } : parsed;
}

/** `public.events=ts desc nulls last,id;public.t=bucket(16,id)`: sort fields (columns or transforms of them), spec defaults (asc; nulls first for asc, last for desc). */
export function parseSortOrders(raw: string): { value: SortOrderEntry[] } | { rule: string } {
  let problem: string | undefined;
  const parsed = entries(raw, '=', 'schema.table=column or transform(column) [asc|desc] [nulls first|nulls last],...', (scanner, name) => {
    const fields: SortColumnEntry[] = [];
    do {
      const report = (p: string) => (problem ??= p);
      if (scanner.peek() === '"') {
        const column = scanner.word(',;', 'column name');
        fields.push({ column, ...modifiers(scanner.rest(',;'), report) });
      } else {
        const text = scanner.rest(',;');
        if (text === '') scanner.fail('expected a sort field');
        fields.push(sortField(text, report));
      }
    } while (scanner.eat(','));
    return { ...name, fields };
  });
  return problem && 'value' in parsed ? { rule: problem } : parsed;
}

function sortField(text: string, report: (problem: string) => void): SortColumnEntry {
  const call = /^([A-Za-z_]+)\s*\((.*)\)\s*(.*)$/.exec(text);
  if (!call) {
    const match = /^(\S+)\s*(.*)$/.exec(text)!;
    return { column: match[1], ...modifiers(match[2], report) };
  }
  const [, name, args, rest] = call;
  const transform = sortTransform(name.toLowerCase(), args, report);
  return { ...transform, ...modifiers(rest, report) };
}

const UNARY_TRANSFORMS = new Set(['identity', 'year', 'month', 'day', 'hour', 'void']);

/** `bucket(16, id)` → column id, transform bucket[16]; a column name may be double-quoted. */
function sortTransform(name: string, args: string, report: (problem: string) => void): Pick<SortColumnEntry, 'column' | 'transform'> {
  const unquote = (text: string) => {
    const t = text.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
  };
  if (UNARY_TRANSFORMS.has(name)) return { column: unquote(args), ...(name === 'identity' ? {} : { transform: name }) };
  if (name === 'bucket' || name === 'truncate') {
    const comma = args.indexOf(',');
    const size = comma < 0 ? NaN : Number(args.slice(0, comma).trim());
    if (!Number.isInteger(size) || size < 1 || size > 2 ** 31 - 1) {
      report(`must write ${name}(N, column) with N a positive integer (not ${JSON.stringify(`${name}(${args})`)})`);
      return { column: unquote(args.slice(comma + 1)) };
    }
    return { column: unquote(args.slice(comma + 1)), transform: `${name}[${size}]` };
  }
  report(`must use a sort transform of identity, bucket(N,col), truncate(W,col), year, month, day, hour or void (not ${name})`);
  return { column: unquote(args) };
}

function modifiers(rest: string, report: (problem: string) => void): Pick<SortColumnEntry, 'direction' | 'nullOrder'> {
  const words = rest.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
  let direction: 'asc' | 'desc' = 'asc';
  if (words[0] === 'asc' || words[0] === 'desc') direction = words.shift() as 'asc' | 'desc';
  let nullOrder: 'nulls-first' | 'nulls-last' = direction === 'asc' ? 'nulls-first' : 'nulls-last';
  const nulls = words.join(' ');
  if (nulls === 'nulls first' || nulls === 'nulls-first') nullOrder = 'nulls-first';
  else if (nulls === 'nulls last' || nulls === 'nulls-last') nullOrder = 'nulls-last';
  else if (nulls !== '') report(`must write each sort field as column [asc|desc] [nulls first|nulls last] (not ${JSON.stringify(rest)})`);
  return { direction, nullOrder };
}
