import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyMigrations } from '@philotes/buffer';
import { EmbeddedPostgres } from '@philotes/embedded-pg';

export const ROOT = resolve(__dirname, '..', '..');
export const APPS = ['wal-reader', 'iceberg-writer', 'dlq-admin'] as const;
export type StackApp = (typeof APPS)[number];

/** Fixed local credentials: the same as docker-compose.yml and the defaults of the settings. */
export const LOCAL = {
  sourceUser: 'source',
  sourcePassword: 'source',
  sourceDatabase: 'source',
  bufferUser: 'philotes',
  bufferPassword: 'philotes',
  bufferDatabase: 'philotes',
} as const;

export interface EmbeddedDatabases {
  readonly server: EmbeddedPostgres;
  readonly sourceUrl: string;
  readonly bufferUrl: string;
}

const quiet = { info: () => undefined };

/**
 * One embedded PostgreSQL holding the demo source database and the buffer database, as the
 * settings' defaults expect them (port 5433, source/source, philotes/philotes). The data stays in
 * `dataDir` between runs.
 */
export async function startEmbeddedDatabases(dataDir: string, port: number, fast = false): Promise<EmbeddedDatabases> {
  const server = new EmbeddedPostgres({ dataDir, port, fast });
  await server.initialise();
  await server.start();
  // The source user is a superuser, as POSTGRES_USER is in the official image docker-compose uses:
  // a publication FOR ALL TABLES needs it.
  await server.ensureRole(LOCAL.sourceUser, LOCAL.sourcePassword, 'SUPERUSER REPLICATION');
  await server.createDatabase(LOCAL.sourceDatabase, LOCAL.sourceUser);
  await server.ensureRole(LOCAL.bufferUser, LOCAL.bufferPassword);
  await server.createDatabase(LOCAL.bufferDatabase, LOCAL.bufferUser);
  const url = (user: string, password: string, database: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
  const sourceUrl = url(LOCAL.sourceUser, LOCAL.sourcePassword, LOCAL.sourceDatabase);
  const bufferUrl = url(LOCAL.bufferUser, LOCAL.bufferPassword, LOCAL.bufferDatabase);
  await seedDemoSource(server);
  await applyMigrations(bufferUrl, quiet);
  return { server, sourceUrl, bufferUrl };
}

async function seedDemoSource(server: EmbeddedPostgres): Promise<void> {
  const sql = readFileSync(join(ROOT, 'deployments', 'demo', 'source.sql'), 'utf8');
  await server.withClient(async (client) => {
    await client.query(`SET ROLE ${LOCAL.sourceUser}`);
    await client.query(sql);
  }, LOCAL.sourceDatabase);
}

export interface RunningApp {
  readonly app: StackApp;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Starts a built app (`dist/apps/<app>/main.js`) as its own process, its output prefixed with its name. */
/** `netns`: in that network namespace (`ip netns exec`, see tools/dev/netns.ts), as a host of its own. */
export function startApp(app: StackApp, env: NodeJS.ProcessEnv, onLine: (app: StackApp, line: string) => void, netns?: string): RunningApp {
  const entry = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing; run "npm run build" first`);
  const command = netns ? ['ip', 'netns', 'exec', netns, process.execPath, entry] : [process.execPath, entry];
  // Own process group: Ctrl-C in a terminal reaches only the launcher, which stops the apps in order
  // (one SIGTERM each); otherwise each app would get the terminal's SIGINT and our SIGTERM at once.
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const relay = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') onLine(app, line);
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { app, child, exited };
}

/** SIGTERM to every app, then wait for them (they drain: final checkpoints, last commits). */
export async function stopApps(apps: readonly RunningApp[], timeoutMs = 35_000): Promise<void> {
  await Promise.all(
    apps.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}
