import { Client } from 'pg';
import { seededRandom } from '../../tools/chaos/plan';

// One seeded PRNG for the chaos runs and the crash tests: a failing run replays with its seed.
export { seededRandom };

export interface WorkloadOptions {
  readonly table: string;
  readonly seed: number;
  /** Every n-th transaction inserts this many rows at once (a transaction larger than a batch). */
  readonly bigEvery: number;
  readonly bigRows: number;
  /** First id the workload inserts; rows below it may exist already (a preloaded table). */
  readonly firstId: number;
  readonly existingIds?: readonly number[];
  /** A pause after each transaction, to hold the rate down for long tests (load shaping, not synchronisation). */
  readonly pauseMs?: number;
}

/**
 * Mixed transactions on `table (id bigint primary key, v int, note text)` until stopped: inserts of
 * 1-5 rows, updates, deletes, some transactions mixing them, and a large insert every so often.
 */
export class Workload {
  private stopped = false;
  private done?: Promise<void>;
  transactions = 0;

  constructor(
    private readonly client: Client,
    private readonly options: WorkloadOptions,
  ) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    const random = seededRandom(this.options.seed);
    const live = [...(this.options.existingIds ?? [])];
    let nextId = this.options.firstId;
    const pick = () => live[Math.floor(random() * live.length)];
    const table = this.options.table;
    while (!this.stopped) {
      this.transactions++;
      await this.client.query('BEGIN');
      if (this.transactions % this.options.bigEvery === 0) {
        const from = nextId;
        nextId += this.options.bigRows;
        await this.client.query(`INSERT INTO ${table} SELECT g, g % 97, 'bulk' FROM generate_series($1::bigint, $2::bigint) g`, [from, nextId - 1]);
        for (let id = from; id < nextId; id++) live.push(id);
      } else {
        const steps = 1 + Math.floor(random() * 4);
        for (let step = 0; step < steps; step++) {
          const choice = random();
          if (choice < 0.5 || live.length < 10) {
            const id = nextId++;
            await this.client.query(`INSERT INTO ${table} VALUES ($1, $2, $3)`, [id, Math.floor(random() * 1000), `n${id}`]);
            live.push(id);
          } else if (choice < 0.8) {
            await this.client.query(`UPDATE ${table} SET v = v + 1, note = $2 WHERE id = $1`, [pick(), `u${this.transactions}`]);
          } else {
            const index = Math.floor(random() * live.length);
            await this.client.query(`DELETE FROM ${table} WHERE id = $1`, [live[index]]);
            live.splice(index, 1);
          }
        }
      }
      await this.client.query('COMMIT');
      if (this.options.pauseMs) await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }
}

/** One transaction as an independent consumer saw it: xid and its changes as "op:id". */
export interface OracleTransaction {
  readonly xid: number;
  readonly changes: string[];
}

/**
 * Reads a test_decoding slot without consuming it: the source's own account of every committed
 * transaction, in commit order, to compare the buffer against.
 */
export async function oracleTransactions(client: Client, slot: string, table: string): Promise<OracleTransaction[]> {
  const { rows } = await client.query<{ data: string }>(
    "SELECT data FROM pg_logical_slot_peek_changes($1, NULL, NULL, 'include-xids', '1', 'skip-empty-xacts', '1')",
    [slot],
  );
  const transactions: OracleTransaction[] = [];
  let current: OracleTransaction | undefined;
  const prefix = `table ${table}: `;
  for (const { data } of rows) {
    const begin = /^BEGIN (\d+)$/.exec(data);
    if (begin) {
      current = { xid: Number(begin[1]), changes: [] };
      continue;
    }
    if (data.startsWith('COMMIT')) {
      if (current && current.changes.length > 0) transactions.push(current);
      current = undefined;
      continue;
    }
    if (!current || !data.startsWith(prefix)) continue;
    const [op] = data.slice(prefix.length).split(':');
    const id = /\bid\[bigint\]:(\d+)/.exec(data)?.[1];
    current.changes.push(`${op[0]}:${id}`);
  }
  return transactions;
}
