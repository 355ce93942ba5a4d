import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HEALTH_CHECKS, HEALTH_OPTIONS, HealthCheck, HealthOptions } from './health-check';
import { HealthController } from './health.controller';

export interface HealthModuleOptions extends HealthOptions {
  /** Check classes, instantiated by Nest (so they can inject what they probe). */
  readonly checks: ReadonlyArray<Type<HealthCheck>>;
  /** Modules that export what the checks inject (the app's workers). */
  readonly imports?: ReadonlyArray<Type<unknown>>;
}

@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    const collect: Provider = {
      provide: HEALTH_CHECKS,
      useFactory: (...checks: HealthCheck[]) => checks,
      inject: [...options.checks],
    };
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [...options.checks, collect, { provide: HEALTH_OPTIONS, useValue: { timeoutMs: options.timeoutMs } }],
    };
  }
}
