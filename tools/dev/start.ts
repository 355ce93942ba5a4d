/**
 * `npm start`: the whole pipeline on this machine. With no configuration it starts an embedded
 * PostgreSQL (demo source database + buffer database, in ./data/postgres) and the three apps as
 * separate processes. With PHILOTES_DATABASE_URL or PHILOTES_CDC_SOURCE_* set, it uses those
 * databases instead. Ctrl-C stops the apps (they drain), then the embedded database.
 */
import { join } from 'node:path';
import { APPS, LOCAL, ROOT, RunningApp, StackApp, startApp, startEmbeddedDatabases, stopApps } from './local-stack';
import { EmbeddedPostgres } from '@philotes/embedded-pg';

const EMBEDDED_PORT = Number(process.env.PHILOTES_LOCAL_PG_PORT ?? 5433);
const DATA_DIR = process.env.PHILOTES_LOCAL_DATA_DIR ?? join(ROOT, 'data', 'postgres');
const PORTS: Record<StackApp, number> = { 'dlq-admin': 8080, 'wal-reader': 8081, 'iceberg-writer': 8082 };

function usesExternalDatabases(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some((name) => name === 'PHILOTES_DATABASE_URL' || name.startsWith('PHILOTES_CDC_SOURCE_'));
}

function appEnvironment(app: StackApp, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PHILOTES_LOG_FORMAT: base.PHILOTES_LOG_FORMAT ?? 'text' };
  delete env.PHILOTES_LOCAL_PG_PORT;
  delete env.PHILOTES_LOCAL_DATA_DIR;
  if (app === 'dlq-admin') {
    env.PHILOTES_ADMIN_LISTEN_ADDR ??= `:${PORTS[app]}`;
    // A local try-out: the launcher opts out of the token explicitly, unless one was given.
    if (!env.PHILOTES_ADMIN_TOKEN) env.PHILOTES_ADMIN_AUTH_DISABLED ??= 'true';
  }
  else env.PHILOTES_HEALTH_LISTEN_ADDR = `:${PORTS[app]}`;
  return env;
}

async function main(): Promise<void> {
  let server: EmbeddedPostgres | undefined;
  let env: NodeJS.ProcessEnv = { ...process.env };
  if (usesExternalDatabases(process.env)) {
    console.log('Using the databases from PHILOTES_DATABASE_URL / PHILOTES_CDC_SOURCE_*.');
  } else {
    console.log(`Starting embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PORT} (data in ${DATA_DIR}) ...`);
    const databases = await startEmbeddedDatabases(DATA_DIR, EMBEDDED_PORT);
    server = databases.server;
    env = { ...env, PHILOTES_DATABASE_URL: databases.bufferUrl, PHILOTES_CDC_SOURCE_URL: databases.sourceUrl };
  }

  let stopping = false;
  const apps: RunningApp[] = APPS.map((app) =>
    startApp(app, appEnvironment(app, env), (name, line) => process.stdout.write(`[${name.padEnd(14)}] ${line}\n`)),
  );
  for (const app of apps) {
    void app.exited.then((code) => {
      if (!stopping) console.log(`[${app.app.padEnd(14)}] exited with code ${String(code)}`);
    });
  }

  const http = (app: StackApp) => `http://localhost:${PORTS[app]}`;
  console.log(
    [
      '',
      'Philotes is starting:',
      `  dlq-admin API     ${http('dlq-admin')}/api/v1/pipelines   docs ${http('dlq-admin')}/docs${process.env.PHILOTES_ADMIN_TOKEN ? '' : '   (no token: local use; set PHILOTES_ADMIN_TOKEN to require one)'}`,
      `                    health ${http('dlq-admin')}/health   metrics ${http('dlq-admin')}/metrics`,
      `  wal-reader        health ${http('wal-reader')}/health   metrics ${http('wal-reader')}/metrics`,
      `  iceberg-writer    health ${http('iceberg-writer')}/health   metrics ${http('iceberg-writer')}/metrics`,
      ...(server
        ? [
            `  source database   psql postgres://${LOCAL.sourceUser}@127.0.0.1:${EMBEDDED_PORT}/${LOCAL.sourceDatabase}   (password: ${LOCAL.sourcePassword})`,
            `  buffer database   psql postgres://${LOCAL.bufferUser}@127.0.0.1:${EMBEDDED_PORT}/${LOCAL.bufferDatabase}   (password: ${LOCAL.bufferPassword})`,
          ]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  const shutdown = async (): Promise<void> => {
    if (stopping) {
      console.log('Second signal: killing the apps now.');
      for (const { child } of apps) child.kill('SIGKILL');
      return;
    }
    stopping = true;
    console.log('Stopping the apps (they drain first) ...');
    await stopApps(apps);
    if (server) {
      console.log('Stopping embedded PostgreSQL ...');
      await server.stop();
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
