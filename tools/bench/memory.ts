/**
 * `npm run bench:memory`: the readers' and writers' peak memory on the rows that break pipelines
 * bounded by event counts — one 300 MB bytea row, 30,000 rows of 100 kB jsonb, one transaction of
 * a million rows — against the chart's default memory limits (reader 768 MiB, writer 2 GiB).
 *
 * Method: per scenario, a fresh source and buffer database on an embedded PostgreSQL at its durable
 * settings, and fresh wal-reader and iceberg-writer processes at Philotes' defaults (a local
 * warehouse). The workload runs on the source; the scenario ends when the buffer holds all of it
 * and the writer has applied (or dead-lettered) every event. Peak RSS is the kernel's VmHWM of
 * each process, read just before it stops.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { instanceReasons, storedCounts, unappliedEvents, wholeCheckpointOf } from '@philotes/buffer';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { parseLsn } from '@philotes/pgoutput';
import { BenchApp, startBenchApp, stopBenchApp, until } from './drains';
import { machineDescription, peakRssKb, replaceSection, serverVersion } from './report';

const ROOT = join(__dirname, '..', '..');
const LIMITS_MB = { reader: 768, writer: 2048 };

interface Scenario {
  readonly name: string;
  readonly table: string;
  readonly workload: (source: Client) => Promise<void>;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'one 300 MB bytea row (over the 64 MB event limit: a dead letter)',
    table: 'CREATE TABLE blobs (id int PRIMARY KEY, data bytea)',
    workload: async (source) => {
      await source.query("INSERT INTO blobs VALUES (1, convert_to(repeat('x', 300000000), 'UTF8'))");
      await source.query("INSERT INTO blobs VALUES (2, 'after')");
    },
  },
  {
    name: '30,000 rows of 100 kB jsonb (transactions of 100)',
    table: 'CREATE TABLE docs (id int PRIMARY KEY, doc jsonb)',
    workload: async (source) => {
      for (let from = 1; from <= 30_000; from += 100) {
        await source.query(
          `INSERT INTO docs SELECT g, jsonb_build_object('id', g, 'items', (SELECT jsonb_agg(jsonb_build_object('n', i, 'label', 'item ' || i || ' of row ' || g)) FROM generate_series(1, 2800) i))
             FROM generate_series($1::int, $2::int) g`,
          [from, from + 99],
        );
      }
    },
  },
  {
    name: 'one transaction of 1,000,000 narrow rows',
    table: 'CREATE TABLE narrow (id bigint PRIMARY KEY, a int, b text, c timestamptz, d numeric(12,2))',
    workload: async (source) => {
      await source.query("INSERT INTO narrow SELECT g, g % 1000, 'row ' || g, now(), g * 0.01 FROM generate_series(1, 1000000) g");
    },
  },
];

interface Result {
  readonly name: string;
  readonly seconds: number;
  readonly readerMb: number;
  readonly writerMb: number;
  readonly events: number;
  readonly deadLetters: number;
}

async function runScenario(server: EmbeddedPostgres, scenario: Scenario, index: number): Promise<Result> {
  const sourceDb = `bench_memory_source_${index}`;
  const bufferDb = `bench_memory_buffer_${index}`;
  await server.createDatabase(sourceDb);
  await server.createDatabase(bufferDb);
  const source = new Client({ connectionString: server.url(sourceDb) });
  const buffer = new Client({ connectionString: server.url(bufferDb) });
  await source.connect();
  await buffer.connect();
  const apps: BenchApp[] = [];
  const peaks = { reader: 0, writer: 0 };
  const sample = () => {
    peaks.reader = Math.max(peaks.reader, peakRssKb(apps[0]?.child.pid ?? -1));
    peaks.writer = Math.max(peaks.writer, peakRssKb(apps[1]?.child.pid ?? -1));
  };
  try {
    await source.query(scenario.table);
    apps.push(
      startBenchApp('wal-reader', {
        PHILOTES_DATABASE_URL: server.url(bufferDb),
        PHILOTES_CDC_SOURCE_URL: server.url(sourceDb),
        PHILOTES_CDC_SOURCE_ID: 'bench',
        PHILOTES_CDC_REPLICATION_SLOT: `bench_memory_${index}`,
        PHILOTES_CDC_PUBLICATION: `bench_memory_${index}`,
        PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      }),
    );
    await until(async () => (await instanceReasons(buffer, 'wal-reader', 'running', 3_600_000).catch(() => [])).length > 0, () => 'the reader to run');
    apps.push(
      startBenchApp('iceberg-writer', {
        PHILOTES_DATABASE_URL: server.url(bufferDb),
        PHILOTES_ICEBERG_WAREHOUSE: mkdtempSync(join(tmpdir(), 'philotes-bench-memory-')),
        PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      }),
    );
    const started = performance.now();
    await scenario.workload(source);
    const target = parseLsn((await source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
    await until(async () => {
      sample();
      const lsn = await wholeCheckpointOf(buffer, 'bench');
      return lsn !== undefined && parseLsn(lsn) >= target;
    }, () => `the buffer to hold the workload (reader said: ${apps[0].output().slice(-800)})`, 3_600_000);
    await until(async () => {
      sample();
      return (await unappliedEvents(buffer)) === 0;
    }, () => `the writer to apply everything (writer said: ${apps[1].output().slice(-800)})`, 3_600_000);
    const seconds = (performance.now() - started) / 1000;
    sample();
    const counts = await storedCounts(buffer);
    return { name: scenario.name, seconds, readerMb: peaks.reader / 1024, writerMb: peaks.writer / 1024, events: counts.events, deadLetters: counts.deadLetters };
  } finally {
    for (const app of apps) await stopBenchApp(app);
    await source.end();
    await buffer.end();
  }
}

async function main(): Promise<void> {
  const server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-bench-memory-')), 'pg'), port: await freePort(), fast: false, settings: { max_wal_size: '8GB' } });
  await server.initialise();
  await server.start();
  try {
    const version = await serverVersion(server);
    const results: Result[] = [];
    for (const [index, scenario] of SCENARIOS.entries()) {
      const result = await runScenario(server, scenario, index);
      results.push(result);
      console.log(`${result.name}: ${result.seconds.toFixed(1)} s, reader ${result.readerMb.toFixed(0)} MB, writer ${result.writerMb.toFixed(0)} MB, ${result.events} events, ${result.deadLetters} dead letters`);
    }
    const share = (mb: number, limit: number) => `${mb.toFixed(0)} MB (${((mb / limit) * 100).toFixed(0)}% of ${limit} MiB)`;
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; PostgreSQL ${version} (embedded, **durable**: fsync, full_page_writes, synchronous_commit on), source and buffer on the same server, Philotes' default settings.`,
      '',
      'Each scenario: fresh databases and fresh wal-reader and iceberg-writer processes; peak RSS is the kernel\'s VmHWM, against the chart\'s default memory limits.',
      '',
      '| scenario | reader peak RSS | writer peak RSS | source → applied | events, dead letters |',
      '| --- | --- | --- | --- | --- |',
      ...results.map((r) => `| ${r.name} | **${share(r.readerMb, LIMITS_MB.reader)}** | **${share(r.writerMb, LIMITS_MB.writer)}** | ${r.seconds.toFixed(1)} s | ${r.events.toLocaleString()}, ${r.deadLetters} |`),
    ].join('\n');
    console.log(`\n${report}`);
    replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'memory', '## Memory: rows that break count-bounded pipelines', report);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
