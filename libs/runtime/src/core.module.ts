import { DynamicModule, Global, Module } from '@nestjs/common';
import { MetricsModule } from './metrics.module';
import { LifecycleService } from './lifecycle.service';
import { ProcessContext } from './process-context';
import { BUFFER_POOL, CONFIG_STORE, FAULTS, INSTANCE_IDENTITY, LOGGER, STATE_MACHINE } from './tokens';

/** Makes the {@link ProcessContext} injectable everywhere and serves `/metrics`. */
@Global()
@Module({})
export class PhilotesCoreModule {
  static forRoot(context: ProcessContext): DynamicModule {
    const values = [
      { provide: CONFIG_STORE, useValue: context.config },
      { provide: LOGGER, useValue: context.logger },
      { provide: BUFFER_POOL, useValue: context.pool },
      { provide: STATE_MACHINE, useValue: context.machine },
      { provide: INSTANCE_IDENTITY, useValue: context.identity },
      { provide: FAULTS, useValue: context.faults },
    ];
    return {
      module: PhilotesCoreModule,
      imports: [MetricsModule.forRoot(context.registry, { serve: context.config.settings.healthEnabled })],
      providers: [...values, LifecycleService],
      exports: [...values.map((v) => v.provide), LifecycleService],
    };
  }
}
