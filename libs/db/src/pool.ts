import { Pool, PoolConfig } from 'pg';
import { deadPeerConfig } from './dead-peer';

export interface PoolLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface PoolOptions {
  readonly connectionString: string;
  readonly max: number;
  /** Shown in pg_stat_activity, so an operator can tell the apps' connections apart. */
  readonly applicationName: string;
  readonly connectionTimeoutMs?: number;
  /** See {@link deadPeerConfig}; 0 or unset sends nothing extra. */
  readonly deadPeerTimeoutMs?: number;
  readonly log: PoolLog;
}

/**
 * A `pg` pool that survives the database going away: an idle client that loses its connection
 * emits 'error' on the pool, which would crash the process if nobody listened. The pool drops such
 * clients by itself and opens new ones on the next query.
 */
export function createPool(options: PoolOptions): Pool {
  const config: PoolConfig = {
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    ...deadPeerConfig(options.deadPeerTimeoutMs ?? 0),
  };
  const pool = new Pool(config);
  pool.on('error', (error) => options.log.warn('an idle buffer-database connection failed; it will be replaced', { error }));
  return pool;
}
