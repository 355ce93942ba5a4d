import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { duckdb } from '../support/iceberg';
import { byKey, IcebergTableState, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

/**
 * Real: source PostgreSQL, the built wal-reader and iceberg-writer processes, the buffer database
 * and a local warehouse. The tables are read back by icebird (rows with deletes applied) and
 * DuckDB's Parquet reader (exact values, field ids), and compared with what PostgreSQL itself says
 * each value is — never with the writer's own conversions.
 */
describe('iceberg-writer: every mapped type, upsert and append, source → Iceberg', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter;
  let upsert: IcebergTableState;
  let append: IcebergTableState;

  const COLUMNS = `
      id bigint PRIMARY KEY,
      b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
      n numeric, n_fixed numeric(12,3), txt text, vc varchar(20), ch char(3), bin bytea,
      d date, t time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
      u uuid, j json, jb jsonb, m mood, dom positive,
      ai integer[], atx text[], am mood[], ats timestamptz[],
      mn money, ip inet, rng int4range,
      big text`;
  const SCHEMA = `
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
    CREATE TABLE typed (${COLUMNS});
    CREATE TABLE typed_log (${COLUMNS});`;

  // Run against both tables: one mirrored (upsert), one logged (append).
  const BOTH = (sql: string) => ['typed', 'typed_log'].map((table) => sql.replaceAll('$T', table));
  const FIRST = `
    INSERT INTO $T VALUES
      (1, true, 32767, -2147483648, 9223372036854775807, 3.4028235e38, 0.1,
       '12345678901234567890.123456789', 1234.5, 'héllo wörld 🌍', 'varchar', 'ab', '\\x00ff10',
       '2024-02-29', '23:59:59.999999', '12:00:00.25+05:30', '2024-03-05 10:34:56.789012', '2024-03-05 12:34:56.789012+02', '1 year 2 months -3 days 04:05:06.5',
       'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2]}', 'happy', 7,
       '{1,NULL,3}', '{"a b","c\\"d",NULL,""}', '{sad,happy}', '{"2024-01-01 00:00:00+00","1999-12-31 23:59:59.5+00"}',
       '$12.34', '10.0.0.1/8', '[1,10)',
       (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)),
      (2, false, -32768, 0, -9223372036854775808, '-Infinity', '-0',
       '-0.000000001', -0.001, '', 'x', 'z', '\\x',
       '0044-03-15 BC', '00:00:00', '00:00:00-08', '1900-01-01 00:00:00', '1970-01-01 00:00:00.000001+00', '-1 mons -00:00:00.000001',
       '00000000-0000-0000-0000-000000000000', '[]', '{}', 'sad', 1,
       '{}', '{}', '{}', '{}',
       '-$0.01', '::1', 'empty', 'short'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, true, 1, 1, 1, 'NaN', 'NaN', 1, 1, 'kept', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;
  // A later batch: the update leaves the TOASTed "big" unchanged, so the writer must find it in the table.
  const SECOND = `
    UPDATE $T SET i4 = 42, f8 = 1e10 WHERE id = 1;
    UPDATE $T SET txt = 'changed' WHERE id = 2;
    DELETE FROM $T WHERE id = 3;
    INSERT INTO $T (id, txt) VALUES (5, 'gone');
    DELETE FROM $T WHERE id = 5;
    INSERT INTO $T (id, n, txt) VALUES (6, 'NaN', 'poison');
    INSERT INTO $T (id, txt) VALUES (7, 'after the poison')`;

  const run = async (statements: string) => {
    const source = await sourceClient(dbs);
    for (const statement of statements.split(';').map((s) => s.trim()).filter(Boolean)) {
      for (const sql of BOTH(statement)) await source.query(sql);
    }
    await source.end();
  };

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query(SCHEMA);
    await source.end();
    reader = await startReader(dbs, { PHILOTES_CDC_SNAPSHOT_MODE: 'never' });
    writer = await startWriter(dbs, tempWarehouse(), { PHILOTES_ICEBERG_TABLE_MODES: 'public.typed_log=append', PHILOTES_RETRY_MAX_ATTEMPTS: '2' });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
    await run(FIRST);
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    await run(SECOND);
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    upsert = (await readIcebergTable(dbs.buffer.url, 'public', 'typed'))!;
    append = (await readIcebergTable(dbs.buffer.url, 'public', 'typed_log'))!;
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  /** The current row of each key, exactly as DuckDB reads it: from the newest data file holding the key. */
  async function exactRows(table: IcebergTableState, select: string): Promise<Map<string, Record<string, unknown>>> {
    const data = table.files.filter((f) => f.content === 0);
    const sequence = new Map(data.map((f) => [fileURLToPath(f.path), f.sequenceNumber]));
    const files = [...sequence.keys()].map((p) => `'${p}'`).join(', ');
    const rows = await duckdb<Record<string, unknown>>(`SELECT ${select}, filename FROM read_parquet([${files}], filename = true)`);
    const newest = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      const key = String(row.id);
      const current = newest.get(key);
      if (!current || sequence.get(row.filename as string)! > sequence.get(current.filename as string)!) newest.set(key, row);
    }
    return newest;
  }

  /** The same expressions on both sides: PostgreSQL's values and DuckDB's reading of the Parquet files. */
  const CANONICAL: ReadonlyArray<[name: string, postgres: string, duck: string]> = [
    ['b', 'b::text', 'b::varchar'],
    ['i2', 'i2::text', 'i2::varchar'],
    ['i4', 'i4::text', 'i4::varchar'],
    ['i8', 'i8::text', 'i8::varchar'],
    ['f4', 'f4::float8::text', 'f4::double::varchar'],
    ['f8', 'f8::text', 'f8::varchar'],
    ['n', 'n::numeric(38,9)::text', 'n::varchar'],
    ['n_fixed', 'n_fixed::text', 'n_fixed::varchar'],
    ['txt', 'txt', 'txt'],
    ['vc', 'vc::text', 'vc'],
    // format() prints bpchar with its padding, as the WAL carries it; a cast to text would trim it.
    ['ch', "CASE WHEN ch IS NULL THEN NULL ELSE format('%s|', ch) END", "ch || '|'"],
    ['bin', "upper(encode(bin, 'hex'))", 'hex(bin)'],
    ['d', "(d - date '1970-01-01')::text", "date_diff('day', DATE '1970-01-01', d)::varchar"],
    ['t', '(extract(epoch FROM t) * 1000000)::bigint::text', '((hour(t) * 3600 + minute(t) * 60)::bigint * 1000000 + microsecond(t))::varchar'],
    ['ttz', "(extract(epoch FROM (ttz AT TIME ZONE 'UTC')::time) * 1000000)::bigint::text", '((hour(ttz) * 3600 + minute(ttz) * 60)::bigint * 1000000 + microsecond(ttz))::varchar'],
    ['ts', '(extract(epoch FROM ts) * 1000000)::bigint::text', 'epoch_us(ts)::varchar'],
    ['tstz', '(extract(epoch FROM tstz) * 1000000)::bigint::text', 'epoch_us(tstz)::varchar'],
    ['iv', 'iv_iso', 'iv'],
    ['u', 'u::text', 'u'],
    ['j', 'j::text', 'j'],
    ['jb', 'jb::text', 'jb'],
    ['m', 'm::text', 'm'],
    ['dom', 'dom::text', 'dom::varchar'],
    ['ai', 'array_to_json(ai)::text', "to_json(ai)::varchar"],
    ['atx', 'array_to_json(atx)::text', 'to_json(atx)::varchar'],
    ['am', 'array_to_json(am)::text', 'to_json(am)::varchar'],
    ['ats', "(SELECT json_agg((extract(epoch FROM x) * 1000000)::bigint ORDER BY o) FROM unnest(ats) WITH ORDINALITY AS u(x, o))::text", "CASE WHEN len(ats) = 0 THEN NULL ELSE to_json(list_transform(ats, x -> epoch_us(x)))::varchar END"],
    // As the type's output function prints them (inet::text would add the netmask).
    ['mn', "CASE WHEN mn IS NULL THEN NULL ELSE format('%s', mn) END", 'mn'],
    ['ip', "CASE WHEN ip IS NULL THEN NULL ELSE format('%s', ip) END", 'ip'],
    ['rng', "CASE WHEN rng IS NULL THEN NULL ELSE format('%s', rng) END", 'rng'],
    ['big', 'md5(big)', 'md5(big)'],
  ];

  async function sourceCanonical(table: string): Promise<Map<string, Record<string, string | null>>> {
    const client = await sourceClient(dbs);
    try {
      await client.query('SET IntervalStyle = iso_8601');
      const { rows } = await client.query<Record<string, string | null>>(
        `SELECT id::text AS id, ${CANONICAL.map(([name, pg]) => `${pg.replace('iv_iso', 'iv::text')} AS ${name}`).join(', ')} FROM ${table}`,
      );
      return new Map(rows.map((row) => [row.id!, row]));
    } finally {
      await client.end();
    }
  }

  const normalise = (value: unknown): string | null => {
    if (value === null || value === undefined) return null;
    // Compact JSON on both sides, whatever spacing each printer uses.
    return String(value).replace(/, /g, ',').replace(/: /g, ':');
  };
  /** Floats compare as numbers (the printers differ: 1e10 vs 10000000000.0), -0 and NaN included. */
  const FLOATS = new Set(['f4', 'f8']);
  const float = (value: unknown): number | null => {
    if (value === null || value === undefined) return null;
    const text = String(value).toLowerCase();
    if (text === 'inf' || text === 'infinity') return Infinity;
    if (text === '-inf' || text === '-infinity') return -Infinity;
    return Number(text);
  };
  const same = (name: string, actual: unknown, expected: unknown): boolean =>
    FLOATS.has(name) ? Object.is(float(actual), float(expected)) : normalise(actual) === normalise(expected);

  it('mirrors the table: rows updated, deleted and re-inserted as in the source, read by icebird', async () => {
    const expected = await query<{ id: string; txt: string | null; i4: number | null }>(dbs.source.url, 'SELECT id::text AS id, txt, i4 FROM typed WHERE id <> 6 ORDER BY id');
    const rows = byKey(upsert.rows, 'id');
    expect([...rows.keys()].sort()).toEqual(expected.map((r) => r.id));
    for (const row of expected) expect({ txt: rows.get(row.id)!.txt, i4: rows.get(row.id)!.i4 }).toEqual({ txt: row.txt, i4: row.i4 });
    // The update in the second batch left "big" unchanged (TOAST): the value is kept, not nulled.
    expect(rows.get('1')!.big).toHaveLength(12_800);
  });

  it('holds every value exactly as PostgreSQL has it, read by DuckDB', async () => {
    const expected = await sourceCanonical('typed');
    const actual = await exactRows(upsert, `id, ${CANONICAL.map(([name, , duck]) => `${duck} AS ${name}`).join(', ')}`);
    expected.delete('6');
    expect([...actual.keys()].filter((id) => byKey(upsert.rows, 'id').has(id)).sort()).toEqual([...expected.keys()].sort());
    for (const [id, row] of expected) {
      for (const [name] of CANONICAL) {
        const got = actual.get(id)![name];
        if (!same(name, got, row[name])) expect({ id, name, value: got }).toEqual({ id, name, value: row[name] });
      }
    }
  });

  it('logs every change once in the append table, with its operation, LSN, commit time and position', async () => {
    const events = await query<{ lsn: string; seq: string; op: string; micros: string }>(
      dbs.buffer.url,
      `SELECT (commit_lsn - '0/0')::text AS lsn, seq::text, op, (extract(epoch FROM commit_ts) * 1000000)::bigint::text AS micros
         FROM cdc_events JOIN cdc_tables USING (table_id) WHERE table_name = 'typed_log' ORDER BY commit_lsn, seq`,
    );
    const dead = await query<{ lsn: string; seq: string }>(
      dbs.buffer.url,
      `SELECT (commit_lsn - '0/0')::text AS lsn, seq::text FROM cdc_dead_letters JOIN cdc_tables USING (table_id) WHERE table_name = 'typed_log'`,
    );
    const deadKeys = new Set(dead.map((d) => `${d.lsn}/${d.seq}`));
    const logged = append.rows
      .map((r) => ({ lsn: String(r._cdc_lsn), seq: String(r._cdc_seq), op: r._cdc_op, id: String(r.id) }))
      .sort((a, b) => (BigInt(a.lsn) === BigInt(b.lsn) ? Number(a.seq) - Number(b.seq) : BigInt(a.lsn) < BigInt(b.lsn) ? -1 : 1));
    const expected = events.filter((e) => !deadKeys.has(`${e.lsn}/${e.seq}`));
    expect(logged.map((r) => `${r.lsn}/${r.seq}/${r.op}`)).toEqual(expected.map((e) => `${e.lsn}/${e.seq}/${e.op}`));
    expect(logged.map((r) => `${r.op}${r.id}`)).toEqual(['I1', 'I2', 'I3', 'I4', 'U1', 'U2', 'D3', 'I5', 'D5', 'I7']);
    const times = await duckdb<{ lsn: string; ts: string }>(
      `SELECT _cdc_lsn::varchar AS lsn, epoch_us(_cdc_commit_ts)::varchar AS ts FROM read_parquet([${append.files.filter((f) => f.content === 0).map((f) => `'${fileURLToPath(f.path)}'`).join(', ')}])`,
    );
    const micros = new Map(events.map((e) => [e.lsn, e.micros]));
    for (const { lsn, ts } of times) expect(ts).toBe(micros.get(lsn));
  });

  it('keeps exact values in the append table too, the unchanged TOAST value included', async () => {
    const expected = await sourceCanonical('typed_log');
    const rows = await duckdb<Record<string, unknown>>(
      `SELECT id::varchar AS id, _cdc_op AS op, ${CANONICAL.map(([name, , duck]) => `${duck} AS ${name}`).join(', ')}
         FROM read_parquet([${append.files.filter((f) => f.content === 0).map((f) => `'${fileURLToPath(f.path)}'`).join(', ')}])`,
    );
    const updateOfOne = rows.find((r) => r.id === '1' && r.op === 'U')!;
    for (const [name] of CANONICAL) {
      if (!same(name, updateOfOne[name], expected.get('1')![name])) expect({ name, value: updateOfOne[name] }).toEqual({ name, value: expected.get('1')![name] });
    }
  });

  it('sends a numeric NaN to the dead letters with its cause, while the events after it arrive', async () => {
    const letters = await query<{ table_name: string; op: string; error_kind: string; error_message: string; attempts: number }>(
      dbs.buffer.url,
      'SELECT table_name, op, error_kind, error_message, attempts FROM cdc_dead_letters JOIN cdc_tables USING (table_id) ORDER BY table_name',
    );
    // Row 4 (float NaN is a fine double) is written; row 6 (numeric NaN) cannot be, in either table.
    expect(letters).toEqual([
      { table_name: 'typed', op: 'I', error_kind: 'poison', error_message: expect.stringMatching(/public\.typed\.n: numeric NaN has no decimal value/), attempts: 2 },
      { table_name: 'typed_log', op: 'I', error_kind: 'poison', error_message: expect.stringMatching(/public\.typed_log\.n: numeric NaN/), attempts: 2 },
    ]);
    expect(byKey(upsert.rows, 'id').get('7')?.txt).toBe('after the poison');
    expect(byKey(upsert.rows, 'id').get('4')?.txt).toBe('kept');
    expect(byKey(upsert.rows, 'id').has('6')).toBe(false);
  });

  it('writes field ids, identifier fields and the applied source LSN into the table', async () => {
    const metadata = JSON.parse(readFileSync(fileURLToPath(upsert.metadataLocation), 'utf8')) as {
      'current-schema-id': number;
      schemas: Array<{ 'schema-id': number; 'identifier-field-ids'?: number[]; fields: Array<{ id: number; name: string; required: boolean }> }>;
      'current-snapshot-id': number;
      snapshots: Array<{ 'snapshot-id': number; summary: Record<string, string> }>;
    };
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!;
    const idField = schema.fields.find((f) => f.name === 'id')!;
    expect(schema['identifier-field-ids']).toEqual([idField.id]);
    expect(idField.required).toBe(true);

    const file = fileURLToPath(upsert.files.find((f) => f.content === 0)!.path);
    const parquet = await duckdb<{ name: string; field_id: number | null }>(`SELECT name, field_id FROM parquet_schema('${file}') WHERE num_children IS NULL OR num_children = 0`);
    const byName = new Map(schema.fields.map((f) => [f.name, f.id]));
    for (const column of parquet.filter((c) => byName.has(c.name))) expect(Number(column.field_id)).toBe(byName.get(column.name));

    const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id'])!;
    const [progress] = await query<{ lsn: string }>(
      dbs.buffer.url,
      "SELECT applied_lsn::text AS lsn FROM cdc_writer_progress JOIN cdc_tables USING (table_id) WHERE table_name = 'typed'",
    );
    expect(current.summary['philotes.source-lsn']).toBe(progress.lsn);

    // File-based readers find the same version through version-hint.text.
    const hint = readFileSync(fileURLToPath(`${upsert.tableLocation}/metadata/version-hint.text`), 'utf8');
    expect(upsert.metadataLocation).toMatch(new RegExp(`/0*${hint}-[0-9a-f-]+\\.metadata\\.json$`));
  });
});
