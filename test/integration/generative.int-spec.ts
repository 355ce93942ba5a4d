import { query, serverUrl } from '../support/database';
import { planScenario } from '../support/generative/plan';
import { runScenario, ScenarioResult } from '../support/generative/scenario';

/**
 * Generated shapes, not picked ones: each seed draws sources (two sharing table names, half the
 * time), hostile schema and table names, 0/1/2/… rows, every key kind and column type, then DML,
 * DDL, tables dropped and created again, tables joining the publication, resyncs and SIGKILLs —
 * and afterwards every table must equal its source, read by DuckDB (deletes applied per the spec)
 * and icebird. A failure prints its seed: PHILOTES_GENERATIVE_SEED=<seed> replays it.
 * `npm run generative -- --seeds 200` is the long run.
 */
const FIRST = Number(process.env.PHILOTES_GENERATIVE_SEED ?? 20261201);
const COUNT = Number(process.env.PHILOTES_GENERATIVE_SEEDS ?? 3);
const SEEDS = Array.from({ length: COUNT }, (_, i) => FIRST + i);

describe('generated sources, exactly once', () => {
  const results: ScenarioResult[] = [];

  afterAll(() => {
    const sum = (of: (r: ScenarioResult) => number) => results.reduce((n, r) => n + of(r), 0);
    process.stdout.write(
      `generative: ${results.length} seeds from ${FIRST}, ${sum((r) => r.sources)} sources, ${sum((r) => r.tables)} tables (${sum((r) => r.partitioned)} partitioned), ${sum((r) => r.rows)} rows, ${sum((r) => r.operations)} operations, ${sum((r) => r.faults)} kills, ${results.filter((r) => r.failures.length > 0).length} failing\n`,
    );
  });

  it('runs on the server the suite uses', async () => {
    const [{ version }] = await query<{ version: number }>(serverUrl(), "SELECT current_setting('server_version_num')::int AS version");
    process.stdout.write(`generative: PostgreSQL ${Math.floor(version / 10_000)}\n`);
    expect(version).toBeGreaterThanOrEqual(150_000);
  });

  it.each(SEEDS)('seed %i: every table equals its source', async (seed) => {
    const plan = planScenario(seed);
    const result = await runScenario(plan, (line) => process.stderr.write(`${line}\n`));
    results.push(result);
    process.stdout.write(`generative: seed ${seed} ${result.failures.length === 0 ? 'ok' : 'FAILED'}: ${result.sources} sources, ${result.tables} tables (${result.partitioned} partitioned), ${result.rows} rows, ${result.operations} operations, ${result.faults} kills, format version ${plan.formatVersion.start === plan.formatVersion.afterWriterRestart ? plan.formatVersion.start : `${plan.formatVersion.start} then ${plan.formatVersion.afterWriterRestart}`}\n`);
    if (result.failures.length > 0) throw new Error(`seed ${seed} (replay: PHILOTES_GENERATIVE_SEED=${seed} PHILOTES_GENERATIVE_SEEDS=1):\n${result.failures.join('\n')}`);
    expect(result.failures).toEqual([]);
  }, 600_000);
});
