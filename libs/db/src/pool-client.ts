import { Pool, PoolClient } from 'pg';

/**
 * Runs `work` with a client checked out of `pool`. pg-pool removes its error listener from a
 * checked-out client, so a connection lost between two queries would throw from an EventEmitter and
 * crash the process; here it is caught, and the broken client is destroyed instead of reused.
 */
export async function withPoolClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** `work` inside BEGIN … COMMIT on a pooled client; rolled back when it throws. */
export function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return withPoolClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * `work` in a read transaction whose plans walk indexes in order instead of sorting. For keyset
 * pages of the event buffer (`WHERE (lsn, seq) > … ORDER BY lsn, seq LIMIT n`): on a table not yet
 * analysed (a large copy just written) the planner misjudges the range as small and fetches all of
 * it to sort — once per page, quadratic in the backlog. The primary key's order is always right.
 */
export function withIndexOrder<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return withPoolClient(pool, async (client) => {
    await client.query('BEGIN READ ONLY; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
