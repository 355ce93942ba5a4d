import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { applyMigrationsFrom, MigrationLog } from '@philotes/db';

/** Where the buffer schema's migrations live, relative to the repository (and to the image's /app). */
export const BUFFER_MIGRATIONS = join('libs', 'buffer', 'migrations');

/**
 * The buffer schema's migrations, found above `start`: this file sits in the source tree, in a
 * bundle under dist/ or in the image, and each keeps libs/buffer/migrations at its root.
 */
export function locateMigrations(start: string = __dirname): string {
  let current = resolve(start);
  for (;;) {
    const candidate = join(current, BUFFER_MIGRATIONS);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) throw new Error(`no ${BUFFER_MIGRATIONS} directory above ${start}`);
    current = parent;
  }
}

/** Connects, applies the buffer schema's pending migrations, disconnects. */
export function applyMigrations(connectionString: string, log: MigrationLog): Promise<number[]> {
  return applyMigrationsFrom(locateMigrations(), connectionString, log);
}
