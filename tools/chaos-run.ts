import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { applyMigrations } from '../libs/db/src';
import { EmbeddedPostgres, freePort } from '../libs/embedded-pg/src';
import { parseLsn } from '../libs/pgoutput/src';
import { createObjectStore, IcebergTables, SqlCatalog } from '../libs/iceberg/src';
import { formatReport, TableVerdict, verifyPipeline } from '../libs/verify/src';
import { FaultKind, planFaults, PlannedFault, seededRandom, spread } from './chaos-plan';
import { RunningApp, StackApp, startApp } from './local-stack';

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
  const servers = { source: await startServer(join(work, 'source')), buffer: await startServer(join(work, 'buffer')) };
  const sourceUrl = `postgres://postgres:postgres@127.0.0.1:${servers.source.port}/postgres`;
  const bufferUrl = `postgres://postgres:postgres@127.0.0.1:${servers.buffer.port}/postgres`;
  const warehouse = join(work, 'warehouse');
  await applyMigrations(bufferUrl, { info: () => undefined });
  await prepareSource(sourceUrl);

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
      outcomes.push(await inject(fault, { apps, servers, sourceUrl, bufferUrl, buffer, log: options.log, started }));
    }
    await workload.stop();
    options.log(`workload stopped after ${workload.transactions} transactions; waiting for the pipeline to catch up`);
    const verdicts = await verifyPipeline({
      source: { connectionString: sourceUrl },
      buffer,
      tables: new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes')),
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
    rmSync(work, { recursive: true, force: true });
  }
}

/** Equal, or — for the poison table — different only by the poison row, which a dead letter holds. */
function expected(verdict: TableVerdict): boolean {
  if (verdict.table !== 'public.prices') return verdict.ok;
  return verdict.extra.length + verdict.different.length + verdict.duplicated.length === 0 && verdict.missing.length === 1 && verdict.missing[0].key === POISON_KEY && verdict.missing[0].deadLetter?.status === 'pending';
}

async function startServer(dataDir: string): Promise<EmbeddedPostgres> {
  // fsync off is safe here (a killed server's writes are in the OS cache); synchronous_commit must
  // stay on: off, a crash loses commits clients were told succeeded — a database that breaks its
  // own promise, which no pipeline can survive.
  const server = new EmbeddedPostgres({ dataDir, port: await freePort(), fast: true, settings: { wal_sender_timeout: '5s', synchronous_commit: 'on' } });
  await server.initialise();
  await server.start();
  return server;
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
  }
  const recovered = fault.kind === 'kill dlq-admin' ? await apps.ready('dlq-admin', at) : await movedOn(context.buffer, before, at);
  const recoveryMs = recovered === undefined ? undefined : recovered - at;
  context.log(`${String(Math.round((at - context.started) / 1000)).padStart(4)}s  ${fault.kind.padEnd(30)} ${recoveryMs === undefined ? 'NOT RECOVERED' : `recovered in ${recoveryMs} ms`}`);
  return { kind: fault.kind, atMs: at - context.started, ...(recoveryMs === undefined ? {} : { recoveryMs }) };
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
    const { rows } = await buffer.query<{ stored: string | null; applied: string | null }>(
      `SELECT (SELECT confirmed_lsn::text FROM cdc_checkpoints WHERE source_id = 'chaos') AS stored,
              (SELECT max(applied_lsn)::text FROM cdc_writer_progress) AS applied`,
    );
    return { stored: rows[0].stored ?? '0/0', applied: rows[0].applied ?? '0/0' };
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
