import { Pool } from 'pg';
import { SourceCatalog, timeTransformOf } from '@philotes/capture';
import { createTestDatabase, TestDatabase } from '../support/database';

/**
 * Real source catalog: which time transform a range-partitioned table maps to, read from its
 * partitions' bounds as PostgreSQL stores them (timestamptz bounds made in any session time zone).
 */
describe('range alignment of a partitioned table', () => {
  let database: TestDatabase;
  let pool: Pool;
  let catalog: SourceCatalog;

  beforeAll(async () => {
    database = await createTestDatabase('philotes_range');
    pool = new Pool({ connectionString: database.url, max: 2 });
    catalog = new SourceCatalog(pool);
    await pool.query(`
      SET TIME ZONE 'America/St_Johns'; -- UTC-3:30: bounds written here are not at a UTC unit unless their literal says so
      CREATE TABLE yearly (id int, d date) PARTITION BY RANGE (d);
      CREATE TABLE yearly_a PARTITION OF yearly FOR VALUES FROM (MINVALUE) TO ('2021-01-01');
      CREATE TABLE yearly_b PARTITION OF yearly FOR VALUES FROM ('2021-01-01') TO ('2023-01-01');
      CREATE TABLE yearly_d PARTITION OF yearly DEFAULT;
      CREATE TABLE daily ("Odd ""name""" timestamp, v int) PARTITION BY RANGE ("Odd ""name""");
      CREATE TABLE daily_a PARTITION OF daily FOR VALUES FROM ('2022-01-01') TO ('2022-01-02');
      CREATE TABLE daily_b PARTITION OF daily FOR VALUES FROM ('2022-01-02') TO ('2022-01-09');
      CREATE TABLE local_months (ts timestamptz) PARTITION BY RANGE (ts);
      CREATE TABLE local_months_a PARTITION OF local_months FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
      CREATE TABLE hourly (ts timestamptz) PARTITION BY RANGE (ts);
      CREATE TABLE hourly_a PARTITION OF hourly FOR VALUES FROM ('2022-01-01 00:00+00') TO ('2022-01-01 01:00+00');
      CREATE TABLE half_hours (ts timestamptz) PARTITION BY RANGE (ts);
      CREATE TABLE half_hours_a PARTITION OF half_hours FOR VALUES FROM ('2022-01-01 00:00+00') TO ('2022-01-01 00:30+00');
      CREATE TABLE by_two (a date, b date) PARTITION BY RANGE (a, b);
      CREATE TABLE by_list (d date) PARTITION BY LIST (d);
      CREATE TABLE by_expression (ts timestamptz) PARTITION BY RANGE (date_trunc('month', ts AT TIME ZONE 'UTC'));
      CREATE TABLE no_partitions_yet (ts timestamptz) PARTITION BY RANGE (ts);
      CREATE TABLE plain (ts timestamptz);
    `);
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const transformOf = async (table: string) => timeTransformOf(await catalog.rangeAlignment((await pool.query<{ oid: number }>(`SELECT '${table}'::regclass::oid::int8::float8 AS oid`)).rows[0].oid));

  it('maps aligned bounds to the coarsest unit, in UTC', async () => {
    expect(await transformOf('yearly')).toEqual({ column: 'd', unit: 'year' });
    expect(await transformOf('daily')).toEqual({ column: 'Odd "name"', unit: 'day' });
    expect(await transformOf('hourly')).toEqual({ column: 'ts', unit: 'hour' });
    // Midnight in Newfoundland is 03:30 UTC: no unit holds it.
    expect(await transformOf('local_months')).toBeUndefined();
  });

  it('maps nothing else', async () => {
    for (const table of ['half_hours', 'by_two', 'by_list', 'by_expression', 'no_partitions_yet', 'plain']) expect([table, await transformOf(table)]).toEqual([table, undefined]);
  });
});
