import { readFileSync, writeFileSync } from 'node:fs';
import { Pool } from 'pg';
import { applyMigrations } from '@philotes/buffer';
import { ConfigError, loadSettings, renderConfigReference, sourceConnection, withConfigReference } from '@philotes/config';
import { IcebergTables, SqlCatalog, warehouseStore } from '@philotes/iceberg';
import { formatReport, verifyPipeline } from '@philotes/verify';
import { writerSettingsOf } from '@philotes/writer';
import { ConfigReferenceArgs, Invocation, VerifyArgs } from './commands';
import { ExitCode } from './exit-codes';

/** Where a command writes: its result to `out`, what went wrong to `err`. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

type Run = Extract<Invocation, { kind: 'run' }>;

/** Runs a parsed command; resolves to its exit code (never rejects: failures are reported on `err`). */
export async function runCommand(invocation: Run, env: NodeJS.ProcessEnv, io: Output): Promise<ExitCode> {
  try {
    switch (invocation.command) {
      case 'verify':
        return await verify(invocation.args, env, io);
      case 'migrate':
        return await migrate(env, io);
      case 'config-reference':
        return configReference(invocation.args, io);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return ExitCode.Usage;
    }
    io.err(`philotes ${invocation.command} failed: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.CouldNotRun;
  }
}

async function verify(args: VerifyArgs, env: NodeJS.ProcessEnv, io: Output): Promise<ExitCode> {
  const { settings } = loadSettings(env);
  const writer = writerSettingsOf(settings);
  const buffer = new Pool({ connectionString: settings.databaseUrl, max: 2, application_name: 'philotes-verify' });
  try {
    const verdicts = await verifyPipeline(
      {
        source: sourceConnection(settings),
        buffer,
        tables: new IcebergTables(warehouseStore(settings), new SqlCatalog(settings.icebergCatalogName, buffer)),
        namespace: writer.namespace,
        textColumns: writer.textColumns,
        unrepresentable: writer.unrepresentable,
        timeoutMs: args.timeoutMs,
        checkKeyIndex: args.keyIndex,
      },
      { source: args.source, table: args.table },
    );
    io.out(args.json ? JSON.stringify(verdicts, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2) : formatReport(verdicts));
    if (verdicts.some((v) => v.notCompared)) return ExitCode.NotCompared;
    return verdicts.every((v) => v.ok) ? ExitCode.Ok : ExitCode.Differences;
  } finally {
    await buffer.end();
  }
}

async function migrate(env: NodeJS.ProcessEnv, io: Output): Promise<ExitCode> {
  const { settings } = loadSettings(env);
  const applied = await applyMigrations(settings.databaseUrl, { info: (message, meta) => io.out(`${message} ${JSON.stringify(meta ?? {})}`) });
  io.out(applied.length === 0 ? 'The buffer schema is up to date.' : `Applied migrations ${applied.join(', ')}.`);
  return ExitCode.Ok;
}

function configReference(args: ConfigReferenceArgs, io: Output): ExitCode {
  if (args.write === undefined) {
    io.out(renderConfigReference());
    return ExitCode.Ok;
  }
  writeFileSync(args.write, withConfigReference(readFileSync(args.write, 'utf8')));
  io.out(`${args.write}: configuration reference updated.`);
  return ExitCode.Ok;
}
