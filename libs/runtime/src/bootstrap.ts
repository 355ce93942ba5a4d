import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { applyMigrations } from '@philotes/buffer';
import { ConfigError, ConfigProblem, formatListenAddress, ListenAddress, LoadedConfig, loadSettings, PhilotesSettings } from '@philotes/config';
import { createLogger, NestWinstonLogger } from '@philotes/logging';
import { LifecycleService } from './lifecycle.service';
import { PipelineWorker } from './pipeline-worker';
import { AppName, createProcessContext, ProcessContext } from './process-context';
import { PIPELINE_WORKERS } from './tokens';

export interface AppDefinition {
  readonly app: AppName;
  /** The app's root module for this process. */
  module(context: ProcessContext): DynamicModule;
  /** Where the HTTP server listens, or undefined for none. */
  listenAddress(settings: Readonly<PhilotesSettings>): ListenAddress | undefined;
  /**
   * Rules only this app has (settings the others do not need); problems stop start-up like any
   * invalid setting, listed with them.
   */
  requirements?(settings: Readonly<PhilotesSettings>, env: NodeJS.ProcessEnv): readonly ConfigProblem[];
  /** Global pipes, OpenAPI and the like, before the server listens. */
  configure?(app: INestApplication, context: ProcessContext): void;
}

/** A second SIGTERM/SIGINT during shutdown exits at once; so does a shutdown that hangs this long. */
const SHUTDOWN_DEADLINE_MS = 30_000;

/**
 * The one way a Philotes app starts: validate configuration (exit 1 listing every problem), build
 * the process context, serve health and metrics, start the lifecycle, and drain on SIGTERM/SIGINT
 * before exiting 0. `node main.js migrate` applies buffer migrations and exits instead.
 */
export async function runPhilotesApp(definition: AppDefinition, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `migrate` only touches the buffer schema: the app's own requirements (an API token) do not apply.
  const loaded = loadConfigurationOrExit(definition, argv[0] !== 'migrate');
  if (argv[0] === 'migrate') return migrateAndExit(definition.app, loaded);
  if (argv.length > 0) {
    process.stderr.write(`${definition.app}: unknown command "${argv[0]}"; the only command is "migrate"\n`);
    process.exit(2);
  }

  const context = createProcessContext(definition.app, loaded, process.env);
  const { logger } = context;
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception; exiting', { error });
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    logger.error('unhandled promise rejection; exiting', { error });
    process.exit(1);
  });

  const app = await NestFactory.create(definition.module(context), { logger: new NestWinstonLogger(logger), abortOnError: false });
  definition.configure?.(app, context);
  const address = definition.listenAddress(context.config.settings);
  if (address) {
    await (address.host ? app.listen(address.port, address.host) : app.listen(address.port));
    logger.info('listening', { address: formatListenAddress(address) });
  } else {
    await app.init();
  }

  const lifecycle = app.get(LifecycleService);
  installShutdown(app, context, lifecycle);
  context.config.watch();
  await lifecycle.start(workersOf(app));
}

function loadConfigurationOrExit(definition: AppDefinition, serving: boolean): LoadedConfig {
  try {
    const loaded = loadSettings(process.env);
    const problems = (serving && definition.requirements?.(loaded.settings, process.env)) || [];
    if (problems.length > 0) throw new ConfigError(problems);
    return loaded;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${definition.app}: ${error.message}\n`);
    process.exit(1);
  }
}

async function migrateAndExit(app: AppName, loaded: LoadedConfig): Promise<never> {
  const settings = loaded.settings;
  const logger = createLogger({ app, instanceId: `${app}-migrate`, level: settings.logLevel, format: settings.logFormat });
  try {
    const applied = await applyMigrations(settings.databaseUrl, logger);
    logger.info(applied.length === 0 ? 'buffer schema is up to date' : 'buffer schema migrated', { applied });
    process.exit(0);
  } catch (error) {
    logger.error('migration failed', { error });
    process.exit(1);
  }
}

/** Every app module provides PIPELINE_WORKERS (possibly empty); a missing one is a wiring bug. */
function workersOf(app: INestApplication): readonly PipelineWorker[] {
  return app.get<readonly PipelineWorker[]>(PIPELINE_WORKERS, { strict: false });
}

function installShutdown(app: INestApplication, context: ProcessContext, lifecycle: LifecycleService): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      context.logger.warn('second signal during shutdown; exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    context.logger.info('shutdown requested', { signal });
    setTimeout(() => {
      context.logger.error('shutdown took too long; exiting', { deadlineMs: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    await lifecycle.stop();
    await app.close();
    context.config.close();
    await context.pool.end();
    context.logger.info('stopped');
    // Exit by letting the event loop empty, so the last log lines are written; a handle left open
    // by mistake must not keep a stopped process alive, hence the fallback.
    process.exitCode = 0;
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      shutdown(signal).catch((error: unknown) => {
        context.logger.error('shutdown failed', { error });
        process.exit(1);
      });
    });
  }
}
