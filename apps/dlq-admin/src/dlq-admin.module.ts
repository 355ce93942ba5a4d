import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Pool } from 'pg';
import { ConfigStore } from '@philotes/config';
import { DeadLetterActions, DeadLetterQueries } from '@philotes/dead-letters';
import { BUFFER_POOL, CONFIG_STORE, coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';
import { AdminAuthGuard } from './admin-auth.guard';
import { ApiErrorFilter } from './api-errors';
import { DeadLetterRetentionWorker } from './dead-letter-retention.worker';
import { DeadLettersController } from './dead-letters.controller';
import { PipelinesController } from './pipelines.controller';

/** The operator's REST API: dead letters, pipeline state, pause and resume. Stateless: any number of replicas. */
@Module({})
export class DlqAdminModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: DlqAdminModule,
      imports: coreImports(context),
      controllers: [DeadLettersController, PipelinesController],
      providers: [
        AdminAuthGuard,
        DeadLetterRetentionWorker,
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: DeadLetterQueries, useFactory: (pool: Pool) => new DeadLetterQueries(pool), inject: [BUFFER_POOL] },
        {
          provide: DeadLetterActions,
          useFactory: (pool: Pool, config: ConfigStore) => new DeadLetterActions(pool, () => config.settings.adminReplayLimit),
          inject: [BUFFER_POOL, CONFIG_STORE],
        },
        { provide: PIPELINE_WORKERS, useFactory: (retention: DeadLetterRetentionWorker) => [retention], inject: [DeadLetterRetentionWorker] },
      ],
    };
  }
}
