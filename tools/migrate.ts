/** `npm run migrate`: applies pending buffer-schema migrations to PHILOTES_DATABASE_URL and exits. */
import { applyMigrations } from '../libs/buffer/src';
import { ConfigError, loadSettings } from '../libs/config/src';

async function main(): Promise<void> {
  const { settings } = loadSettings(process.env);
  const applied = await applyMigrations(settings.databaseUrl, { info: (message, meta) => console.log(message, JSON.stringify(meta)) });
  console.log(applied.length === 0 ? 'The buffer schema is up to date.' : `Applied migrations ${applied.join(', ')}.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Migration failed: ${(error as Error).message}`);
  process.exit(1);
});
