import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { locateMigrations } from '@philotes/buffer';
import { migrate, readMigrations } from '@philotes/db';
import { AppProcess } from '../support/app-process';
import { createTestDatabase, query, TestDatabase } from '../support/database';

const silent = { info: () => undefined };

/** Real: PostgreSQL, and the built apps' `migrate` command as three concurrent processes. */
describe('buffer migrations', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await database.drop();
  });

  it('run concurrently from three processes without error, each migration applied once', async () => {
    const processes = (['wal-reader', 'iceberg-writer', 'dlq-admin'] as const).map((app) =>
      AppProcess.start(app, { PHILOTES_DATABASE_URL: database.url }, ['migrate']),
    );
    const exits = await Promise.all(processes.map((p) => p.exit()));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);

    const expected = readMigrations(locateMigrations()).map((m) => m.version);
    const applied = await query<{ version: number }>(database.url, 'SELECT version FROM philotes_migrations ORDER BY version');
    expect(applied.map((row) => row.version)).toEqual(expected);
    // Exactly one process applied them; the others found nothing to do.
    const appliedLines = processes.flatMap((p) => p.logs.filter((line) => line.message === 'applied migration'));
    expect(appliedLines).toHaveLength(expected.length);

    const tables = await query<{ tablename: string }>(database.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['cdc_events', 'cdc_checkpoints', 'cdc_schema_history', 'cdc_writer_progress', 'cdc_dead_letters', 'pipeline_instances', 'pipeline_controls', 'iceberg_tables', 'iceberg_namespace_properties']),
    );
    const catalogColumns = await query<{ column_name: string }>(database.url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'iceberg_tables' ORDER BY ordinal_position");
    expect(catalogColumns.map((c) => c.column_name)).toEqual(['catalog_name', 'table_namespace', 'table_name', 'metadata_location', 'previous_metadata_location', 'iceberg_type']);
  });

  it('run from the `philotes migrate` command, which names a bad setting and exits 3', async () => {
    const cli = join(__dirname, '..', '..', 'dist', 'apps', 'philotes', 'main.js');
    const applied = spawnSync(process.execPath, [cli, 'migrate'], { env: { ...process.env, PHILOTES_DATABASE_URL: database.url }, encoding: 'utf8' });
    expect({ code: applied.status, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    expect(applied.stdout).toMatch(/Applied migrations 1, 2, 3/);
    const again = spawnSync(process.execPath, [cli, 'migrate'], { env: { ...process.env, PHILOTES_DATABASE_URL: database.url }, encoding: 'utf8' });
    expect(again.stdout).toMatch(/The buffer schema is up to date/);
    const bad = spawnSync(process.execPath, [cli, 'migrate'], { env: { ...process.env, PHILOTES_DATABASE_URL: database.url, PHILOTES_DATABASE_POOL_SIZE: 'many' }, encoding: 'utf8' });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/PHILOTES_DATABASE_POOL_SIZE/);
  });

  it('refuses a migration edited after it was applied', async () => {
    const migrations = readMigrations(locateMigrations());
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await migrate(client, migrations, silent);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
      await expect(migrate(client, edited, silent)).rejects.toThrow(/changed after it was applied/);
      await expect(migrate(client, migrations.slice(0, 0), silent)).rejects.toThrow(/migrations this version does not know/);
      expect(await migrate(client, migrations, silent)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
