import { Provider } from '@nestjs/common';
import { Pool } from 'pg';
import { ConfigStore, sourceConnection } from '@philotes/config';
import { deadPeerConfig } from '@philotes/db';
import { CONFIG_STORE, LOGGER } from '@philotes/runtime';
import type { Logger } from '@philotes/logging';

export const SOURCE_POOL = Symbol('SOURCE_POOL');

/** A small pool of ordinary (non-replication) connections to the source, for catalog questions. */
export const sourcePoolProvider: Provider = {
  provide: SOURCE_POOL,
  inject: [CONFIG_STORE, LOGGER],
  useFactory: (config: ConfigStore, logger: Logger) => {
    const pool = new Pool({ ...sourceConnection(config.settings), max: 3, application_name: 'philotes-wal-reader', idleTimeoutMillis: 30_000, ...deadPeerConfig(config.settings.tcpUserTimeoutMs) });
    pool.on('error', (error) => logger.warn('an idle source connection failed; it will be replaced', { error }));
    return pool;
  },
};
