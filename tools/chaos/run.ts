import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { applyMigrations, confirmedLsnOf, furthestApplied, instanceReasons, moveDefaultEventPartition } from '@philotes/buffer';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { formatLsn, parseLsn } from '@philotes/pgoutput';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { formatReport, TableVerdict, verifyPipeline } from '@philotes/verify';
import { FaultKind, planFaults, PlannedFault, seededRandom, spread } from './plan';
import { RunningApp, StackApp, startApp } from '../dev/local-stack';
import { IsolatedHost } from '../dev/netns';

export interface ChaosOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly counts: Readonly<Record<FaultKind, number>>;
  /** Progress lines (faults, recoveries); the summary is returned. */
  readonly log: (line: string) => void;
}

export interface FaultOutcome {
  readonly kind: FaultKind;
  readonly atMs: number;
  /** Until the pipeline moved again (events stored and applied; for dlq-admin: ready). */
  readonly recoveryMs?: number;
}

export interface ChaosSummary {
  readonly seed: number;
  readonly faults: readonly FaultOutcome[];
  readonly verdicts: readonly TableVerdict[];
  readonly sourceTransactions: number;
  /** Every fault recovered; every table equal, except the poison row, which waits in the dead letters. */
  readonly passed: boolean;
  readonly report: string;
}

const RECOVERY_LIMIT_MS = 60_000;
const TOKEN = 'chaos-admin-token-0123456789';
const POISON_KEY = 'number:2';

/**
 * A chaos run: the three apps (one reader, two writers, one admin) as processes over a source and
 * a buffer PostgreSQL of their own, a mixed workload on three tables (upsert, keyless append, and
 * one poison event), and the planned faults one after another, each waited out until the pipeline
 * moves again. Then the workload stops, the pipeline catches up, and `verify` must find every
 * table equal — except the poison row, which must be in the dead letters.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const work = mkdtempSync(join(tmpdir(), 'philotes-chaos-'));
  // A host of its own for writers to be cut off the network: the buffer listens on its link too.
  const host = options.counts['cut a writer off the network'] > 0 ? IsolatedHost.create() : undefined;
  const servers = { source: await startServer(join(work, 'source')), buffer: await startServer(join(work, 'buffer'), host) };
  const sourceUrl = `postgres://postgres:postgres@127.0.0.1:${servers.source.port}/postgres`;
  const bufferUrl = `postgres://postgres:postgres@127.0.0.1:${servers.buffer.port}/postgres`;
  const warehouse = join(work, 'warehouse');
  await applyMigrations(bufferUrl, { info: () => undefined });
  await prepareSource(sourceUrl);
  const disk = options.counts['fill the buffer disk'] > 0 ? await smallDisk(bufferUrl, join(work, 'bufferspace'), join(work, 'buffer'), options.log) : undefined;

  const env = async (app: StackApp): Promise<NodeJS.ProcessEnv> => ({
    PATH: process.env.PATH,
    PHILOTES_LOG_FORMAT: 'json',
    PHILOTES_LOG_LEVEL: 'error',
    PHILOTES_DATABASE_URL: bufferUrl,
    PHILOTES_CDC_SOURCE_URL: sourceUrl,
    PHILOTES_CDC_SOURCE_ID: 'chaos',
    PHILOTES_ICEBERG_WAREHOUSE: warehouse,
    PHILOTES_CDC_FLUSH_INTERVAL: '100ms',
    PHILOTES_CDC_CHECKPOINT_INTERVAL: '200ms',
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    PHILOTES_RETRY_INITIAL_INTERVAL: '100ms',
    PHILOTES_RETRY_MAX_INTERVAL: '1s',
    PHILOTES_RETRY_MAX_ATTEMPTS: '2',
    PHILOTES_ADMIN_TOKEN: TOKEN,
    PHILOTES_TCP_USER_TIMEOUT: '5s',
    [app === 'dlq-admin' ? 'PHILOTES_ADMIN_LISTEN_ADDR' : 'PHILOTES_HEALTH_LISTEN_ADDR']: `127.0.0.1:${await freePort()}`,
  });
  const random = seededRandom(options.seed ^ 0x5eed);
  const apps = new Fleet(env, options.log, random);
  await apps.start('wal-reader');
  await apps.start('iceberg-writer');
  await apps.start('iceberg-writer');
  await apps.start('dlq-admin');

  const workload = new ChaosWorkload(sourceUrl, random);
  workload.start();
  const buffer = new Pool({ connectionString: bufferUrl, max: 2 });
  buffer.on('error', () => undefined);
  const plan = planFaults({ seed: options.seed, durationMs: options.durationMs, counts: options.counts, minGapMs: 1_500 });
  const outcomes: FaultOutcome[] = [];
  const started = Date.now();
  try {
    for (const fault of plan) {
      const wait = started + fault.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      outcomes.push(await inject(fault, { apps, servers, sourceUrl, bufferUrl, buffer, log: options.log, started, host, disk }));
    }
    await workload.stop();
    options.log(`workload stopped after ${workload.transactions} transactions; waiting for the pipeline to catch up`);
    const verdicts = await verifyPipeline({
      source: { connectionString: sourceUrl },
      buffer,
      tables: new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer)),
      namespace: '{schema}',
      textColumns: new Set(),
      unrepresentable: 'reject',
      timeoutMs: 180_000,
    });
    const passed = outcomes.every((o) => o.recoveryMs !== undefined) && verdicts.length === 3 && verdicts.every(expected);
    const summary = { seed: options.seed, faults: outcomes, verdicts, sourceTransactions: workload.transactions, passed };
    return { ...summary, report: formatSummary(summary) };
  } finally {
    await workload.stop();
    await apps.stopAll();
    await buffer.end().catch(() => undefined);
    await servers.source.stop().catch(() => undefined);
    await servers.buffer.stop().catch(() => undefined);
    host?.destroy();
    disk?.release();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Equal, or — for the poison table — different only by the poison row, which a dead letter holds. */
function expected(verdict: TableVerdict): boolean {
  if (verdict.table !== 'public.prices') return verdict.ok;
  return verdict.extra.length + verdict.different.length + verdict.duplicated.length === 0 && verdict.missing.length === 1 && verdict.missing[0].key === POISON_KEY && verdict.missing[0].deadLetter?.status === 'pending';
}

async function startServer(dataDir: string, host?: IsolatedHost): Promise<EmbeddedPostgres> {
  // fsync off is safe here (a killed server's writes are in the OS cache); synchronous_commit must
  // stay on: off, a crash loses commits clients were told succeeded — a database that breaks its
  // own promise, which no pipeline can survive.
  const listen: Record<string, string> = host ? { listen_addresses: `127.0.0.1,${host.hostAddress}` } : {};
  const server = new EmbeddedPostgres({ dataDir, port: await freePort(), fast: true, settings: { wal_sender_timeout: '5s', synchronous_commit: 'on', ...listen } });
  await server.initialise();
  if (host) appendFileSync(join(dataDir, 'pg_hba.conf'), `\nhost all all ${host.peerAddress}/32 trust\n`);
  await server.start();
  return server;
}

/** The buffer's events on a filesystem of their own that a fault can fill: a tablespace on a small tmpfs. */
interface SmallDisk {
  readonly directory: string;
  release(): void;
}

async function smallDisk(bufferUrl: string, directory: string, dataDir: string, log: (line: string) => void): Promise<SmallDisk | undefined> {
  mkdirSync(directory, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', directory], { stdio: 'pipe' });
  } catch (error) {
    log(`cannot mount a small filesystem for the disk-full fault (${(error as Error).message.split('\n')[0]}); it is skipped`);
    return undefined;
  }
  const owner = statSync(dataDir);
  execFileSync('chown', [`${owner.uid}:${owner.gid}`, directory]);
  const client = new Client({ connectionString: bufferUrl });
  await client.connect();
  try {
    await client.query(`CREATE TABLESPACE chaos_events LOCATION '${directory}'`);
    // Today's events land in the default partition (partitions are made for the days ahead).
    await moveDefaultEventPartition(client, 'chaos_events');
  } finally {
    await client.end();
  }
  return { directory, release: () => execFileSync('umount', ['-l', directory], { stdio: 'pipe' }) };
}

async function prepareSource(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE items (id bigint PRIMARY KEY, v int, note text)');
  await client.query('CREATE TABLE clicks (item bigint, at timestamptz DEFAULT now())');
  await client.query('CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,2))');
  await client.query("INSERT INTO items SELECT g, g % 100, 'seed' FROM generate_series(1, 2000) g");
  // The poison event: NaN cannot be a decimal(10,2); the writer sends it to the dead letters.
  await client.query("INSERT INTO prices VALUES (1, 1.00), (2, 'NaN'), (3, 3.00)");
  await client.end();
}

interface FaultContext {
  readonly host?: IsolatedHost;
  readonly disk?: SmallDisk;
  readonly apps: Fleet;
  readonly servers: { readonly source: EmbeddedPostgres; readonly buffer: EmbeddedPostgres };
  readonly sourceUrl: string;
  readonly bufferUrl: string;
  readonly buffer: Pool;
  readonly log: (line: string) => void;
  readonly started: number;
}

async function inject(fault: PlannedFault, context: FaultContext): Promise<FaultOutcome> {
  const { apps, servers } = context;
  const before = await progress(context.buffer);
  const at = Date.now();
  switch (fault.kind) {
    case 'kill wal-reader':
      await apps.kill('wal-reader');
      break;
    case 'kill iceberg-writer':
      await apps.kill('iceberg-writer');
      break;
    case 'kill dlq-admin':
      await apps.kill('dlq-admin');
      break;
    case 'restart source':
      await servers.source.kill();
      await servers.source.start();
      break;
    case 'restart buffer':
      await servers.buffer.kill();
      await servers.buffer.start();
      break;
    case 'terminate replication':
      await terminate(context.sourceUrl, "backend_type = 'walsender'");
      break;
    case 'terminate writer connections':
      await terminate(context.bufferUrl, "application_name = 'philotes-iceberg-writer'");
      break;
    case 'pause a table under load':
      return outcome(fault, context, at, await pausedUnderLoad(context, before, at));
    case 'fill the buffer disk':
      return outcome(fault, context, at, await fillDisk(context));
    case 'cut a writer off the network':
      return outcome(fault, context, at, await cutWriter(context));
  }
  const recovered = fault.kind === 'kill dlq-admin' ? await apps.ready('dlq-admin', at) : await movedOn(context.buffer, before, at);
  const recoveryMs = recovered === undefined ? undefined : recovered - at;
  context.log(`${String(Math.round((at - context.started) / 1000)).padStart(4)}s  ${fault.kind.padEnd(30)} ${recoveryMs === undefined ? 'NOT RECOVERED' : `recovered in ${recoveryMs} ms`}`);
  return { kind: fault.kind, atMs: at - context.started, ...(recoveryMs === undefined ? {} : { recoveryMs }) };
}

function outcome(fault: PlannedFault, context: FaultContext, at: number, recovered: number | undefined | 'skipped'): FaultOutcome {
  const recoveryMs = recovered === undefined ? undefined : recovered === 'skipped' ? 0 : recovered - at;
  const said = recovered === 'skipped' ? 'skipped (not possible here)' : recoveryMs === undefined ? 'NOT RECOVERED' : `recovered in ${recoveryMs} ms`;
  context.log(`${String(Math.round((at - context.started) / 1000)).padStart(4)}s  ${fault.kind.padEnd(30)} ${said}`);
  return { kind: fault.kind, atMs: at - context.started, ...(recoveryMs === undefined ? {} : { recoveryMs }) };
}

/** Admin API call of the chaos run (the newest dlq-admin). */
async function admin(context: FaultContext, path: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${context.apps.port('dlq-admin')}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

/**
 * The busiest table paused through the admin API while the workload goes on: the rest of the
 * pipeline must keep moving (stored and applied), then it is resumed. Recovered once the pipeline
 * moved with the table paused.
 */
async function pausedUnderLoad(context: FaultContext, before: Progress | undefined, at: number): Promise<number | undefined> {
  await admin(context, '/api/v1/sources/chaos/tables/public/items/pause');
  try {
    return await movedOn(context.buffer, before, at);
  } finally {
    await admin(context, '/api/v1/sources/chaos/tables/public/items/resume').catch((error: unknown) => context.log(`  resume failed: ${String(error)}`));
  }
}

/**
 * The buffer's events filesystem filled to the last byte: the reader must pause saying why (the
 * database's "No space left on device"), and go on once the space is back.
 */
async function fillDisk(context: FaultContext): Promise<number | undefined | 'skipped'> {
  if (!context.disk) return 'skipped';
  const ballast = join(context.disk.directory, 'ballast');
  const fd = openSync(ballast, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // full
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + RECOVERY_LIMIT_MS;
  let said: string | undefined;
  while (!said && Date.now() < deadline) {
    const reasons = await instanceReasons(context.buffer, 'wal-reader', 'paused', 5_000).catch(() => [] as Array<string | null>);
    said = reasons.find((reason) => /No space left on device/.test(reason ?? '')) ?? undefined;
    if (!said) await sleep(100);
  }
  rmSync(ballast, { force: true });
  if (!said) {
    context.log('  the reader never paused saying the disk is full');
    return undefined;
  }
  context.log(`  reader paused: ${said.slice(0, 160)}`);
  return movedOn(context.buffer, await progress(context.buffer), Date.now());
}

/**
 * One more writer, on a host of its own, takes its share of the tables; then the host drops off
 * the network without closing a socket. Its leases must move to the other writers within the
 * dead-peer timeout, and the tables flow again.
 */
async function cutWriter(context: FaultContext): Promise<number | undefined | 'skipped'> {
  const host = context.host;
  if (!host) return 'skipped';
  const far = await context.apps.startFar('iceberg-writer', host);
  const leasesFar = async () =>
    (await context.buffer.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND a.client_addr = $1::inet AND a.application_name = 'philotes-iceberg-writer'",
      [host.peerAddress],
    ).catch(() => ({ rows: [{ n: '0' }] }))).rows[0].n;
  try {
    const deadline = Date.now() + RECOVERY_LIMIT_MS;
    while (Number(await leasesFar()) < 2 && Date.now() < deadline) await sleep(100); // membership and a table
    host.cut();
    const cut = Date.now();
    while (Number(await leasesFar()) > 0) {
      if (Date.now() - cut > RECOVERY_LIMIT_MS) return undefined;
      await sleep(100);
    }
    return await movedOn(context.buffer, await progress(context.buffer), Date.now());
  } finally {
    far.child.kill('SIGKILL');
    await far.exited;
    host.restore();
  }
}

async function terminate(url: string, where: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ${where}`);
  await client.end();
}

interface Progress {
  readonly stored: string;
  readonly applied: string;
}

/** The reader's checkpoint and the furthest applied position; both move while the workload runs. */
async function progress(buffer: Pool): Promise<Progress | undefined> {
  try {
    const stored = await confirmedLsnOf(buffer, 'chaos');
    return { stored: stored === undefined ? '0/0' : formatLsn(stored), applied: await furthestApplied(buffer) };
  } catch {
    return undefined;
  }
}

/** When both the stored and the applied positions passed what they were at the fault. */
async function movedOn(buffer: Pool, before: Progress | undefined, since: number): Promise<number | undefined> {
  while (Date.now() - since < RECOVERY_LIMIT_MS) {
    const now = await progress(buffer);
    if (now && before && lsnAfter(now.stored, before.stored) && lsnAfter(now.applied, before.applied)) return Date.now();
    if (now && !before) return Date.now();
    await sleep(50);
  }
  return undefined;
}

function lsnAfter(a: string, b: string): boolean {
  return parseLsn(a) > parseLsn(b);
}

/** The running app processes; a killed one is replaced at once, as a supervisor would. */
class Fleet {
  private readonly running: Array<{ app: StackApp; process: RunningApp; port: string }> = [];

  constructor(
    private readonly env: (app: StackApp) => Promise<NodeJS.ProcessEnv>,
    private readonly log: (line: string) => void,
    private readonly random: () => number,
  ) {}

  async start(app: StackApp): Promise<void> {
    const env = await this.env(app);
    const address = (app === 'dlq-admin' ? env.PHILOTES_ADMIN_LISTEN_ADDR : env.PHILOTES_HEALTH_LISTEN_ADDR)!;
    const process = startApp(app, env, (name, line) => {
      if (/"level":"error"/.test(line) && !/terminat|connection|ECONNREFUSED|shutting down|starting up|recovery/i.test(line)) this.log(`  [${name}] ${line.slice(0, 300)}`);
    });
    this.running.push({ app, process, port: address.split(':')[1] });
  }

  async kill(app: StackApp): Promise<void> {
    const candidates = this.running.filter((r) => r.app === app);
    const victim = candidates[Math.floor(this.random() * candidates.length)];
    victim.process.child.kill('SIGKILL');
    await victim.process.exited;
    this.running.splice(this.running.indexOf(victim), 1);
    await this.start(app);
  }

  /** The newest process of the app's port. */
  port(app: StackApp): string {
    return [...this.running].reverse().find((r) => r.app === app)!.port;
  }

  /** One more process of the app, on `host`, reaching the databases over its link; not replaced when it dies. */
  async startFar(app: StackApp, host: IsolatedHost): Promise<RunningApp> {
    const env = await this.env(app);
    const remote = (url: string | undefined) => url?.replace('@127.0.0.1:', `@${host.hostAddress}:`);
    return startApp(app, { ...env, PHILOTES_DATABASE_URL: remote(env.PHILOTES_DATABASE_URL), PHILOTES_CDC_SOURCE_URL: remote(env.PHILOTES_CDC_SOURCE_URL) }, () => undefined, host.netns);
  }

  /** When the app's newest process answers ready. */
  async ready(app: StackApp, since: number): Promise<number | undefined> {
    const newest = [...this.running].reverse().find((r) => r.app === app)!;
    while (Date.now() - since < RECOVERY_LIMIT_MS) {
      const ok = await fetch(`http://127.0.0.1:${newest.port}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      if (ok) return Date.now();
      await sleep(50);
    }
    return undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.running.map(async ({ process }) => {
        if (process.child.exitCode !== null || process.child.signalCode !== null) return;
        process.child.kill('SIGTERM');
        const timer = setTimeout(() => process.child.kill('SIGKILL'), 30_000);
        await process.exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Mixed transactions until stopped, riding out source restarts (an interrupted transaction is simply not there). */
class ChaosWorkload {
  transactions = 0;
  private stopped = false;
  private done?: Promise<void>;
  private nextId = 100_000;

  constructor(
    private readonly url: string,
    private readonly random: () => number,
  ) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    let client: Client | undefined;
    while (!this.stopped) {
      try {
        if (!client) {
          client = new Client({ connectionString: this.url });
          client.on('error', () => undefined);
          await client.connect();
        }
        await this.transaction(client);
        this.transactions++;
        await sleep(5);
      } catch {
        await client?.end().catch(() => undefined);
        client = undefined;
        await sleep(100);
      }
    }
    await client?.end().catch(() => undefined);
  }

  private async transaction(client: Client): Promise<void> {
    const pick = () => 1 + Math.floor(this.random() * (this.nextId - 1));
    await client.query('BEGIN');
    const big = this.random() < 0.01;
    if (big) {
      const from = this.nextId;
      this.nextId += 5_000;
      await client.query("INSERT INTO items SELECT g, g % 97, 'bulk' FROM generate_series($1::bigint, $2::bigint) g", [from, this.nextId - 1]);
    } else {
      for (let step = 0; step < 1 + Math.floor(this.random() * 4); step++) {
        const choice = this.random();
        if (choice < 0.45) await client.query('INSERT INTO items VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [this.nextId++, Math.floor(this.random() * 1000), 'new']);
        else if (choice < 0.75) await client.query("UPDATE items SET v = v + 1, note = 'updated' WHERE id = $1", [pick()]);
        else if (choice < 0.9) await client.query('DELETE FROM items WHERE id = $1', [pick()]);
        else await client.query('INSERT INTO clicks (item) VALUES ($1)', [pick()]);
      }
    }
    await client.query('COMMIT');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The summary table: faults per kind with recovery times, then the verify report. */
export function formatSummary(summary: Omit<ChaosSummary, 'report'>): string {
  const kinds = [...new Set(summary.faults.map((f) => f.kind))];
  const rows = kinds.map((kind) => {
    const of = summary.faults.filter((f) => f.kind === kind);
    const times = of.flatMap((f) => (f.recoveryMs === undefined ? [] : [f.recoveryMs]));
    const { median, max } = spread(times);
    const failed = of.length - times.length;
    return `| ${kind} | ${of.length} | ${median} | ${max} | ${failed === 0 ? 'all' : `${failed} NOT`} |`;
  });
  return [
    `Chaos run, seed ${summary.seed}: ${summary.faults.length} faults over ${summary.sourceTransactions} source transactions`,
    '',
    '| fault | injected | recovery median (ms) | recovery max (ms) | recovered |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    formatReport(summary.verdicts),
    '',
    summary.passed ? 'PASSED: nothing lost, nothing duplicated; the poison event is in the dead letters.' : 'FAILED: see above.',
  ].join('\n');
}
