import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// jest loads a globalSetup outside its module registry, where moduleNameMapper (the @philotes alias) does not apply.
// eslint-disable-next-line no-restricted-imports
import { EmbeddedPostgres, freePort } from '../../libs/embedded-pg/src';

declare global {
  // Shared between jest's globalSetup and globalTeardown (same process).
  var __philotesEmbeddedPostgres: EmbeddedPostgres | undefined;
}

/**
 * One PostgreSQL server for the whole run: the integration and deployment projects both name this
 * setup, and the second finds the first's server. Each test file makes its own databases on it.
 * PHILOTES_TEST_DATABASE_URL (a superuser URL of a server with wal_level=logical) replaces it;
 * PHILOTES_TEST_POSTGRES_BIN (a directory with initdb and postgres, e.g. Debian's
 * /usr/lib/postgresql/15/bin) runs that server version instead of the npm package's.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.PHILOTES_TEST_DATABASE_URL) return;
  const server = new EmbeddedPostgres({
    dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-it-')), 'pg'),
    port: await freePort(),
    fast: true,
    ...(process.env.PHILOTES_TEST_POSTGRES_BIN
      ? { binaries: { initdb: join(process.env.PHILOTES_TEST_POSTGRES_BIN, 'initdb'), postgres: join(process.env.PHILOTES_TEST_POSTGRES_BIN, 'postgres') } }
      : {}),
  });
  await server.initialise();
  await server.start();
  process.env.PHILOTES_TEST_DATABASE_URL = server.url();
  globalThis.__philotesEmbeddedPostgres = server;
}
