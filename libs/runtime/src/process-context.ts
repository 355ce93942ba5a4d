import { hostname } from 'node:os';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { ConfigStore, faultInjectionSpec, LoadedConfig } from '@philotes/config';
import { FaultInjector } from '@philotes/faults';
import { createPool } from '@philotes/db';
import { InstanceIdentity, StateMachine } from '@philotes/lifecycle';
import { createLogger, Logger } from '@philotes/logging';
import { createRegistry } from '@philotes/metrics';

/** The app names, as they appear in logs, metrics, pipeline state and the image's entry points. */
export type AppName = 'wal-reader' | 'iceberg-writer' | 'dlq-admin';

/**
 * What a process holds from its first line to its last, built before Nest so that configuration
 * errors are reported plainly and shutdown can reach everything. Nest modules receive it as values.
 */
export interface ProcessContext {
  readonly app: AppName;
  readonly identity: InstanceIdentity;
  readonly config: ConfigStore;
  readonly logger: Logger;
  readonly pool: Pool;
  readonly machine: StateMachine;
  readonly registry: Registry;
  /** Crash points for fault-injection tests (PHILOTES_FAULTS); inert otherwise. */
  readonly faults: FaultInjector;
}

export function createProcessContext(app: AppName, loaded: LoadedConfig, env: NodeJS.ProcessEnv): ProcessContext {
  const settings = loaded.settings;
  const instanceId = settings.instanceId ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ app, instanceId, level: settings.logLevel, format: settings.logFormat });
  for (const warning of loaded.warnings) logger.warn(warning);
  const config = new ConfigStore(loaded, env, logger);
  config.onChange((next) => {
    logger.level = next.logLevel;
  });
  const pool = createPool({
    connectionString: settings.databaseUrl,
    max: settings.databasePoolSize,
    applicationName: `philotes-${app}`,
    deadPeerTimeoutMs: settings.tcpUserTimeoutMs,
    log: logger,
  });
  const machine = new StateMachine((error, transition) =>
    logger.error('a pipeline state listener failed', { to: transition.to, error }),
  );
  const sourceId = app === 'dlq-admin' ? undefined : settings.sourceId;
  return {
    app,
    identity: { instanceId, app, sourceId, startedAt: new Date() },
    config,
    logger,
    pool,
    machine,
    registry: createRegistry(app),
    faults: new FaultInjector(faultInjectionSpec(env)),
  };
}
