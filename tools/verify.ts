/**
 * `npm run verify -- [--source ID] [--table schema.table] [--timeout 60s]`: compares each source
 * table with its Iceberg mirror at a consistent point and prints a report. Exit code 0 when every
 * table matches, 1 on any difference, 2 when a table could not be compared (pipeline behind), 3 on
 * bad arguments or configuration. Reads the same PHILOTES_* settings as the apps (source, buffer,
 * warehouse).
 */
import { Pool } from 'pg';
import { ConfigError, loadSettings, parseDuration, sourceConnection } from '../libs/config/src';
import { IcebergTables, SqlCatalog, warehouseStore } from '../libs/iceberg/src';
import { writerSettingsOf } from '../libs/writer/src';
import { formatReport, verifyPipeline, VerifyScope } from '../libs/verify/src';

function parseArgs(argv: readonly string[]): VerifyScope & { timeoutMs: number } {
  const scope: { source?: string; table?: string; timeoutMs: number } = { timeoutMs: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined || value.startsWith('--')) throw new ArgumentError(`${flag} needs a value`);
    if (flag === '--source') scope.source = value;
    else if (flag === '--table') scope.table = value;
    else if (flag === '--timeout') {
      const ms = parseDuration(value);
      if (ms === undefined) throw new ArgumentError(`--timeout must be a duration such as 60s, got "${value}"`);
      scope.timeoutMs = ms;
    }
    else throw new ArgumentError(`unknown option ${flag}; options: --source ID, --table schema.table, --timeout 60s`);
    i++;
  }
  return scope;
}

class ArgumentError extends Error {}

async function main(): Promise<number> {
  const { settings } = loadSettings(process.env);
  const { timeoutMs, ...scope } = parseArgs(process.argv.slice(2));
  const writer = writerSettingsOf(settings);
  const buffer = new Pool({ connectionString: settings.databaseUrl, max: 2, application_name: 'philotes-verify' });
  const store = warehouseStore(settings);
  try {
    const verdicts = await verifyPipeline(
      {
        source: sourceConnection(settings),
        buffer,
        tables: new IcebergTables(store, new SqlCatalog(settings.icebergCatalogName)),
        namespace: writer.namespace,
        textColumns: writer.textColumns,
        unrepresentable: writer.unrepresentable,
        timeoutMs,
      },
      scope,
    );
    console.log(formatReport(verdicts));
    if (verdicts.some((v) => v.notCompared)) return 2;
    return verdicts.every((v) => v.ok) ? 0 : 1;
  } finally {
    await buffer.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError || error instanceof ArgumentError ? error.message : `verify failed: ${(error as Error).message}`);
    process.exit(3);
  },
);
