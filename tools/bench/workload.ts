/**
 * The end-to-end benchmark's source workload: four tables, one of them wide, changed by a repeating
 * round of transactions (inserts, updates, deletes, one transaction touching two tables), plus one
 * large transaction. The same round runs flat out (throughput) or paced (freshness), so both
 * figures describe one workload.
 */
import { Client } from 'pg';

/** The benchmark's tables: three mirrored (primary key → upsert), one change log (no key → append). */
export const WORKLOAD_TABLES = ['bench_log', 'bench_orders', 'bench_accounts', 'bench_wide'] as const;
export type WorkloadTable = (typeof WORKLOAD_TABLES)[number];

/** Changes one round makes, whatever its number. */
export const ROUND_CHANGES = 1000;

/** Accounts seeded before the pipeline starts (copied by the reader); rounds update them in turn. */
const ACCOUNTS = 9000;
const ORDERS_PER_ROUND = 250;
const WIDE_PER_ROUND = 100;
/** Updates and deletes reach rows this many rounds old: already in an earlier Iceberg commit. */
const LAG_ROUNDS = 40;
/** Keys of the large transaction start here, apart from the rounds' keys. */
const BIG_KEYS_FROM = 1_000_000_000;

const WIDE_INTS = 10;
const WIDE_BIGINTS = 10;
const WIDE_NUMERICS = 5;
const WIDE_TIMESTAMPS = 5;
const WIDE_TEXTS = 8;
/** Columns of the wide table: its key, the typed columns above, a boolean and a jsonb document. */
export const WIDE_COLUMNS = 1 + WIDE_INTS + WIDE_BIGINTS + WIDE_NUMERICS + WIDE_TIMESTAMPS + WIDE_TEXTS + 2;

const series = (count: number, name: (i: number) => string) => Array.from({ length: count }, (_, i) => name(i + 1));

function wideTable(): string {
  const columns = [
    'id bigint PRIMARY KEY',
    ...series(WIDE_INTS, (i) => `i${i} int NOT NULL`),
    ...series(WIDE_BIGINTS, (i) => `b${i} bigint`),
    ...series(WIDE_NUMERICS, (i) => `n${i} numeric(18,4)`),
    ...series(WIDE_TIMESTAMPS, (i) => `ts${i} timestamptz`),
    ...series(WIDE_TEXTS, (i) => `t${i} text`),
    'flag boolean',
    'doc jsonb',
  ];
  return `CREATE TABLE bench_wide (${columns.join(', ')})`;
}

/** A wide row of about 1 kB for key `g` (text columns 64 characters each, below TOAST's 2 kB). */
function wideValues(): string {
  return [
    'g',
    ...series(WIDE_INTS, (i) => `(g % ${1000 * i})::int`),
    ...series(WIDE_BIGINTS, (i) => `g * ${i}`),
    ...series(WIDE_NUMERICS, (i) => `(g * ${i}.0001)::numeric(18,4)`),
    ...series(WIDE_TIMESTAMPS, (i) => `now() - interval '${i} minutes'`),
    ...series(WIDE_TEXTS, (i) => `repeat(md5((g + ${i})::text), 2)`),
    'g % 2 = 0',
    `jsonb_build_object('key', g, 'tags', jsonb_build_array('a', 'b'))`,
  ].join(', ');
}

/** Creates the tables (the source's publication covers all tables) and seeds the accounts. */
export async function createWorkloadTables(source: Client): Promise<void> {
  await source.query('CREATE TABLE bench_log (at timestamptz NOT NULL, kind text NOT NULL, session bigint NOT NULL, path text, bytes int)');
  await source.query('CREATE TABLE bench_orders (id bigint PRIMARY KEY, account bigint NOT NULL, status text NOT NULL, total numeric(12,2) NOT NULL, items int NOT NULL, placed_at timestamptz NOT NULL, note text)');
  await source.query('CREATE TABLE bench_accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(14,2) NOT NULL, updated_at timestamptz NOT NULL)');
  await source.query(wideTable());
  await source.query("INSERT INTO bench_accounts SELECT g, 'owner ' || g, 0, now() FROM generate_series(1, $1::bigint) g", [ACCOUNTS]);
}

/** One transaction of a round, and the changes it must make. */
interface Step {
  readonly changes: number;
  readonly sql: string;
  readonly params: readonly number[];
  /** Rows the statement reports; differs from `changes` when one statement changes two tables. */
  readonly reported: number;
}

/**
 * Round `r`'s transactions, 1000 changes in all: 300 log inserts; 250 orders placed together with
 * 150 account updates (one transaction, two tables); 100 order updates and 50 order deletes of rows
 * placed 40 rounds before; 100 wide inserts and 50 wide updates of rows 40 rounds old. During the
 * first 40 rounds the updates and deletes reach the round's own rows.
 */
export function roundSteps(r: number): Step[] {
  const ordersFrom = r * ORDERS_PER_ROUND + 1;
  const lagged = r >= LAG_ROUNDS ? r - LAG_ROUNDS : r;
  const oldOrders = lagged * ORDERS_PER_ROUND;
  const accountsFrom = ((r * 150) % ACCOUNTS) + 1;
  const wideFrom = r * WIDE_PER_ROUND + 1;
  const oldWide = lagged * WIDE_PER_ROUND;
  return [
    {
      changes: 300,
      reported: 300,
      sql: "INSERT INTO bench_log SELECT now(), (ARRAY['view', 'click', 'search'])[1 + g % 3], g % 5000, '/products/' || (g % 400), (g % 9000)::int FROM generate_series($1::bigint, $2::bigint) g",
      params: [r * 300 + 1, r * 300 + 300],
    },
    {
      changes: 250 + 150,
      reported: 150,
      sql: `WITH placed AS (
              INSERT INTO bench_orders SELECT g, 1 + g % ${ACCOUNTS}, 'placed', (g % 10000) * 0.37, 1 + g % 5, now(), 'order ' || g FROM generate_series($1::bigint, $2::bigint) g RETURNING 1)
            UPDATE bench_accounts SET balance = balance + 1, updated_at = now() WHERE id BETWEEN $3 AND $4`,
      params: [ordersFrom, ordersFrom + ORDERS_PER_ROUND - 1, accountsFrom, accountsFrom + 149],
    },
    {
      changes: 100,
      reported: 100,
      sql: "UPDATE bench_orders SET status = 'paid', total = total + 1 WHERE id BETWEEN $1 AND $2",
      params: [oldOrders + 1, oldOrders + 100],
    },
    {
      changes: 50,
      reported: 50,
      sql: 'DELETE FROM bench_orders WHERE id BETWEEN $1 AND $2',
      // Until rows 40 rounds old exist, the round deletes its own rows 151-200, which nothing else touches.
      params: r >= LAG_ROUNDS ? [oldOrders + 201, oldOrders + 250] : [ordersFrom + 150, ordersFrom + 199],
    },
    {
      changes: 100,
      reported: 100,
      sql: `INSERT INTO bench_wide SELECT ${wideValues()} FROM generate_series($1::bigint, $2::bigint) g`,
      params: [wideFrom, wideFrom + WIDE_PER_ROUND - 1],
    },
    {
      changes: 50,
      reported: 50,
      sql: "UPDATE bench_wide SET i1 = i1 + 1, t1 = 'updated', ts1 = now() WHERE id BETWEEN $1 AND $2",
      params: [oldWide + 1, oldWide + 50],
    },
  ];
}

/** Runs one step; a step that changed fewer rows than it should would make every rate wrong. */
async function runStep(source: Client, step: Step): Promise<void> {
  const { rowCount } = await source.query(step.sql, [...step.params]);
  if (rowCount !== step.reported) throw new Error(`workload step changed ${String(rowCount)} rows, expected ${step.reported}: ${step.sql.slice(0, 80)}`);
}

/** The rounds in order, each transaction a separate commit. Round numbers continue across calls. */
export class MixedWorkload {
  private nextRound = 0;
  private bigTransactions = 0;

  constructor(private readonly source: Client) {}

  /** Rounds run so far. */
  get rounds(): number {
    return this.nextRound;
  }

  /** Runs `count` rounds back to back, as fast as the source takes them. */
  async flatOut(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      for (const step of roundSteps(this.nextRound)) await runStep(this.source, step);
      this.nextRound++;
    }
  }

  /** One transaction inserting `rows` orders. */
  async bigTransaction(rows: number): Promise<void> {
    const from = BIG_KEYS_FROM + this.bigTransactions++ * rows + 1;
    const { rowCount } = await this.source.query(
      "INSERT INTO bench_orders SELECT g, 1 + g % 9000, 'imported', (g % 10000) * 0.37, 1, now(), 'bulk import' FROM generate_series($1::bigint, $2::bigint) g",
      [from, from + rows - 1],
    );
    if (rowCount !== rows) throw new Error(`the large transaction inserted ${String(rowCount)} rows, expected ${rows}`);
  }

  /**
   * Rounds at a fixed rate for `seconds`: each transaction starts when the changes before it are due
   * at `changesPerSecond`, so the source sees an even stream rather than a burst per round. A late
   * transaction runs at once (the schedule does not drift).
   */
  async paced(changesPerSecond: number, seconds: number): Promise<void> {
    const started = Date.now();
    let due = 0;
    while (due < changesPerSecond * seconds) {
      for (const step of roundSteps(this.nextRound)) {
        const wait = started + (due / changesPerSecond) * 1000 - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await runStep(this.source, step);
        due += step.changes;
      }
      this.nextRound++;
    }
  }
}
