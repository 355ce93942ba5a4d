import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, ClientBase } from 'pg';
import { LockSpace } from './advisory-locks';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationLog {
  info(message: string, meta?: Record<string, unknown>): void;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migrations of a directory, in version order. Files are append-only once released. */
export function readMigrations(directory: string): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`migration file ${file} must be named NNNN_name.sql`);
      const sql = readFileSync(join(directory, file), 'utf8');
      return { version: Number(match[1]), name: match[2], sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration versions must run 1, 2, 3…; found ${migration.version} at position ${index + 1}`);
  });
  return migrations;
}

/**
 * Applies the pending migrations in one transaction under an advisory lock. Processes that start
 * together queue on the lock; the first applies, the others find nothing left to do. A migration
 * that was edited after it was applied stops start-up: the database and the code disagree.
 */
export async function migrate(client: ClientBase, migrations: readonly Migration[], log: MigrationLog): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LockSpace.Migrations, 0]);
    await client.query(`CREATE TABLE IF NOT EXISTS philotes_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM philotes_migrations');
    const applied = new Map(rows.map((row) => [row.version, row]));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = rows.filter((row) => !known.has(row.version));
    if (unknown.length > 0) {
      throw new Error(`the buffer database has migrations this version does not know (${unknown.map((r) => `${r.version}_${r.name}`).join(', ')}); run a newer Philotes`);
    }
    const done: number[] = [];
    for (const migration of migrations) {
      const previous = applied.get(migration.version);
      if (previous) {
        if (previous.checksum !== migration.checksum) {
          throw new Error(`migration ${migration.version}_${migration.name} changed after it was applied; restore the released file (migrations are append-only)`);
        }
        continue;
      }
      await client.query(migration.sql);
      await client.query('INSERT INTO philotes_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      done.push(migration.version);
      log.info('applied migration', { migration: `${String(migration.version).padStart(4, '0')}_${migration.name}` });
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Connects, applies what is pending from the directory, disconnects. */
export async function applyMigrationsFrom(directory: string, connectionString: string, log: MigrationLog): Promise<number[]> {
  const client = new Client({ connectionString, application_name: 'philotes-migrate' });
  client.on('error', () => undefined); // the statement in flight rejects with the cause
  await client.connect();
  try {
    return await migrate(client, readMigrations(directory), log);
  } finally {
    await client.end();
  }
}
