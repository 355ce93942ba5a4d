import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, UNCHANGED_TOAST } from '@philotes/events';
import { eventuallyStatus } from '../support/app-process';
import { bufferedEvents, CaptureDatabases, createCaptureDatabases, DecodedEvent, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';

/**
 * Real: a source PostgreSQL, the built wal-reader process, the buffer database. Every value read
 * back from the buffer is compared with what PostgreSQL itself says the value is (epoch
 * microseconds from extract(), IEEE bits from float8send(), hex from encode(), ...), not with the
 * reader's own parsing.
 */
describe('wal-reader: every operation and type, source → buffer', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let events: DecodedEvent[];

  const SCHEMA = `
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
    CREATE TABLE every_type (
      id bigint PRIMARY KEY,
      b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
      n numeric, n_fixed numeric(12,3), txt text, vc varchar(20), ch char(3), bin bytea,
      d date, t time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
      u uuid, j json, jb jsonb, m mood, dom positive,
      ai integer[], atx text[], a2 integer[][], am mood[], ats timestamptz[],
      mn money, ip inet, rng int4range,
      big text
    );
    CREATE TABLE full_identity (id int PRIMARY KEY, v text, w int);
    ALTER TABLE full_identity REPLICA IDENTITY FULL;
    CREATE TABLE to_truncate (id int PRIMARY KEY);`;

  const ROWS = `
    INSERT INTO every_type VALUES
      (1, true, 32767, -2147483648, 9223372036854775807, 3.4028235e38, 0.1,
       '123456789012345678901234567890.123456789012345', 1234.5, 'héllo wörld 🌍', 'varchar', 'ab', '\\x00ff10',
       '2024-02-29', '23:59:59.999999', '12:00:00.25+05:30', '2024-03-05 10:34:56.789012', '2024-03-05 12:34:56.789012+02', '1 year 2 months -3 days 04:05:06.5',
       'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2]}', 'happy', 7,
       '{1,NULL,3}', '{"a b","c\\"d",NULL,""}', '{{1,2},{3,4}}', '{sad,happy}', '{"2024-01-01 00:00:00+00","1999-12-31 23:59:59.5+00"}',
       '$12.34', '10.0.0.1/8', '[1,10)',
       (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)),
      (2, false, -32768, 0, -9223372036854775808, 'NaN', '-0',
       'NaN', -0.001, '', 'x', 'z', '\\x',
       '0044-03-15 BC', '24:00:00', '00:00:00-08', 'infinity', '-infinity', '-1 mons -00:00:00.000001',
       '00000000-0000-0000-0000-000000000000', '[]', '{}', 'sad', 1,
       '{}', '{}', '{{NULL}}', '{}', '{}',
       '-$0.01', '::1', 'empty', NULL),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    UPDATE every_type SET i4 = 42, f8 = 1e10 WHERE id = 1;
    DELETE FROM every_type WHERE id = 3;
    INSERT INTO full_identity VALUES (1, 'one', 1);
    UPDATE full_identity SET w = 2 WHERE id = 1;
    DELETE FROM full_identity WHERE id = 1;
    INSERT INTO to_truncate VALUES (1);
    TRUNCATE to_truncate;
    ALTER TABLE full_identity ADD COLUMN extra text;
    INSERT INTO full_identity VALUES (2, 'two', 2, 'added')`;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query(SCHEMA);
    await source.end();
    // Streaming only: no initial copy, so every event below comes from the WAL.
    reader = await startReader(dbs, { PHILOTES_CDC_SNAPSHOT_MODE: 'never' });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    const writer = await sourceClient(dbs);
    for (const statement of ROWS.split(';').map((s) => s.trim()).filter(Boolean)) await writer.query(statement);
    await writer.end();
    await waitCaughtUp(dbs);
    events = await bufferedEvents(dbs.buffer.url);
  });

  afterAll(async () => {
    await reader?.process.stop();
    await dbs?.drop();
  });

  const row = (id: number, op = 'I') => {
    const event = events.find((e) => e.table === 'public.every_type' && e.op === op && (e.after ?? e.before)?.id === BigInt(id));
    if (!event) throw new Error(`no ${op} event for every_type ${id}`);
    return event;
  };

  it('records every operation, in commit order, with transaction positions', () => {
    expect(events.map((e) => `${e.table}:${e.op}`)).toEqual([
      'public.every_type:I',
      'public.every_type:I',
      'public.every_type:I',
      'public.every_type:U',
      'public.every_type:D',
      'public.full_identity:I',
      'public.full_identity:U',
      'public.full_identity:D',
      'public.to_truncate:I',
      'public.to_truncate:T',
      'public.full_identity:I',
    ]);
    // The three inserts are one transaction: one commit LSN, positions 0, 1, 2, one xid.
    const inserts = events.slice(0, 3);
    expect(new Set(inserts.map((e) => e.commitLsn)).size).toBe(1);
    expect(inserts.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(new Set(inserts.map((e) => e.xid)).size).toBe(1);
    for (let i = 1; i < events.length; i++) expect(events[i].commitLsn >= events[i - 1].commitLsn).toBe(true);
  });

  it('keeps int8, numeric and floats exact', async () => {
    const [expected] = await query<Record<string, string>>(
      dbs.source.url,
      `SELECT i8::text AS i8, encode(float4send(f4), 'hex') AS f4, n::text AS n, n_fixed::text AS n_fixed FROM every_type WHERE id = 1`,
    );
    const one = row(1).after!;
    expect(one.i8).toBe(BigInt(expected.i8));
    expect(one.i2).toBe(32767);
    expect(one.i4).toBe(-2147483648);
    expect(floatHex(one.f4 as number, 4)).toBe(expected.f4);
    expect(one.f8).toBe(0.1);
    expect(one.n).toEqual(new PgNumeric(expected.n));
    expect(one.n_fixed).toEqual(new PgNumeric(expected.n_fixed));
    const two = row(2).after!;
    expect(two.i8).toBe(-9223372036854775808n);
    expect(two.f4).toBeNaN();
    expect(Object.is(two.f8, -0)).toBe(true);
    expect((two.n as PgNumeric).special).toBe('NaN');
    expect(row(1, 'U').after!.f8).toBe(1e10);
  });

  it('keeps dates, times, timestamps and intervals to the microsecond, BC and infinity included', async () => {
    const [expected] = await query<Record<string, string>>(
      dbs.source.url,
      `SELECT (d - date '1970-01-01')::text AS d, (extract(epoch FROM t) * 1000000)::bigint::text AS t,
              (extract(epoch FROM ttz::time) * 1000000)::bigint::text AS ttz_micros, extract(timezone FROM ttz)::text AS ttz_offset,
              (extract(epoch FROM ts) * 1000000)::bigint::text AS ts, (extract(epoch FROM tstz) * 1000000)::bigint::text AS tstz,
              (extract(year FROM iv) * 12 + extract(month FROM iv))::text AS iv_months, extract(day FROM iv)::text AS iv_days,
              ((extract(hour FROM iv) * 3600 + extract(minute FROM iv) * 60) * 1000000 + extract(microseconds FROM iv))::bigint::text AS iv_micros
         FROM every_type WHERE id = 1`,
    );
    const one = row(1).after!;
    expect(one.d).toEqual(new PgDate(Number(expected.d)));
    expect(one.t).toEqual(new PgTime(BigInt(expected.t)));
    expect(one.ttz).toEqual(new PgTimeTz(BigInt(expected.ttz_micros), Number(expected.ttz_offset)));
    expect(one.ts).toEqual(new PgTimestamp(BigInt(expected.ts), false));
    expect(one.tstz).toEqual(new PgTimestamp(BigInt(expected.tstz), true));
    expect(one.iv).toEqual(new PgInterval(Number(expected.iv_months), Number(expected.iv_days), BigInt(expected.iv_micros)));

    const [bc] = await query<{ d: string }>(dbs.source.url, `SELECT (d - date '1970-01-01')::text AS d FROM every_type WHERE id = 2`);
    const two = row(2).after!;
    expect(two.d).toEqual(new PgDate(Number(bc.d)));
    expect(two.t).toEqual(new PgTime(86_400_000_000n));
    expect((two.ts as PgTimestamp).infinite).toBe(1);
    expect((two.tstz as PgTimestamp).infinite).toBe(-1);
    expect(two.iv).toEqual(new PgInterval(-1, 0, -1n));
  });

  it('keeps text, bytea, uuid, json, enums, domains and unknown types as PostgreSQL prints them', async () => {
    const [expected] = await query<Record<string, string>>(
      dbs.source.url,
      `SELECT txt, vc, ch, encode(bin, 'hex') AS bin, u::text AS u, j::text AS j, jb::text AS jb, m::text AS m, mn::text AS mn, ip::text AS ip, rng::text AS rng
         FROM every_type WHERE id = 1`,
    );
    const one = row(1).after!;
    expect(one.txt).toBe(expected.txt);
    expect(one.vc).toBe(expected.vc);
    expect(one.ch).toBe(expected.ch);
    expect(Buffer.from(one.bin as Uint8Array).toString('hex')).toBe(expected.bin);
    expect(one.u).toBe(expected.u);
    expect(one.j).toBe(expected.j);
    expect(one.jb).toBe(expected.jb);
    expect(one.m).toBe('happy');
    expect(one.dom).toBe(7);
    expect([one.mn, one.ip, one.rng]).toEqual([expected.mn, expected.ip, expected.rng]);
    expect(row(2).after!.bin).toEqual(new Uint8Array(0));
  });

  it('keeps arrays, nested, with NULLs, quotes and element types', async () => {
    const [expected] = await query<Record<string, unknown>>(
      dbs.source.url,
      `SELECT array_to_json(ai) AS ai, array_to_json(atx) AS atx, array_to_json(a2) AS a2, array_to_json(am) AS am,
              (SELECT array_agg((extract(epoch FROM x) * 1000000)::bigint::text ORDER BY o) FROM unnest(ats) WITH ORDINALITY AS u(x, o)) AS ats
         FROM every_type WHERE id = 1`,
    );
    const one = row(1).after!;
    expect(one.ai).toEqual(expected.ai);
    expect(one.atx).toEqual(expected.atx);
    expect(one.a2).toEqual(expected.a2);
    expect(one.am).toEqual(expected.am);
    expect(one.ats).toEqual((expected.ats as string[]).map((micros) => new PgTimestamp(BigInt(micros), true)));
    expect(row(2).after!.a2).toEqual([[null]]);
  });

  it('leaves every column of an all-NULL row null', () => {
    const three = row(3).after!;
    expect(Object.entries(three).filter(([name, value]) => name !== 'id' && value !== null)).toEqual([]);
  });

  it('marks an unchanged TOASTed column as unchanged, never as a value', async () => {
    const update = row(1, 'U');
    expect(update.after!.big).toBe(UNCHANGED_TOAST);
    expect(update.after!.i4).toBe(42);
    // The value really lives out of line in the TOAST table, so the test means something.
    const [toast] = await query<{ toast: string }>(dbs.source.url, `SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE relname = 'every_type'`);
    const [chunks] = await query<{ n: string }>(dbs.source.url, `SELECT count(*)::text AS n FROM ${toast.toast}`);
    expect(Number(chunks.n)).toBeGreaterThan(0);
    expect(row(1).after!.big).toMatch(/^[0-9a-f]{12800}$/);
  });

  it('gives updates and deletes the before image the replica identity provides', () => {
    const update = row(1, 'U');
    expect(update.before).toBeUndefined(); // default identity, key unchanged: no old tuple
    const deleted = row(3, 'D');
    expect(deleted.beforeIsKeyOnly).toBe(true);
    expect(deleted.before!.id).toBe(3n);

    const full = events.filter((e) => e.table === 'public.full_identity');
    expect(full[1].before).toEqual({ id: 1, v: 'one', w: 1 });
    expect(full[1].beforeIsKeyOnly).toBe(false);
    expect(full[1].after).toEqual({ id: 1, v: 'one', w: 2 });
    expect(full[2].before).toEqual({ id: 1, v: 'one', w: 2 });
  });

  it('records a new schema version when a table\'s columns change mid-stream', async () => {
    const versions = await query<{ version: number; names: string[] }>(
      dbs.buffer.url,
      `SELECT h.version, array(SELECT c->>'name' FROM jsonb_array_elements(h.columns) c) AS names
         FROM cdc_schema_history h JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'full_identity' ORDER BY version`,
    );
    expect(versions).toEqual([
      { version: 1, names: ['id', 'v', 'w'] },
      { version: 2, names: ['id', 'v', 'w', 'extra'] },
    ]);
    expect(events.at(-1)!.after).toEqual({ id: 2, v: 'two', w: 2, extra: 'added' });
  });

  it('records truncates, and a schema version per table with key columns and types', async () => {
    expect(events.find((e) => e.op === 'T' && !e.copied)!.truncate).toEqual({ cascade: false, restartIdentity: false });
    const [history] = await query<{ columns: Array<{ name: string; kind: string; key: boolean; typeName: string; element?: { kind: string }; textFallback?: boolean }> }>(
      dbs.buffer.url,
      `SELECT h.columns FROM cdc_schema_history h JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'every_type'`,
    );
    const byName = Object.fromEntries(history.columns.map((c) => [c.name, c]));
    expect(byName.id).toMatchObject({ kind: 'int8', key: true });
    expect(byName.txt).toMatchObject({ kind: 'text', key: false });
    expect(byName.m).toMatchObject({ kind: 'enum', typeName: 'public.mood' });
    expect(byName.dom).toMatchObject({ kind: 'int4', typeName: 'public.positive' });
    expect(byName.am).toMatchObject({ kind: 'array', element: { kind: 'enum' } });
    expect(byName.rng).toMatchObject({ kind: 'text', textFallback: true });
  });

  it('warns once per column kept as text, naming column and type but no value', () => {
    const warnings = reader.process.logs.filter((line) => /kept as PostgreSQL text/.test(String(line.message)));
    expect(warnings.map((w) => w.column).sort()).toEqual(['ip', 'mn', 'rng']);
    expect(JSON.stringify(reader.process.logs)).not.toContain('héllo');
  });
});

function floatHex(value: number, bytes: 4 | 8): string {
  const buffer = Buffer.alloc(bytes);
  if (bytes === 4) buffer.writeFloatBE(value);
  else buffer.writeDoubleBE(value);
  return buffer.toString('hex');
}

