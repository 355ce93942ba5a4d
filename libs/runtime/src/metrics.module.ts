import { DynamicModule, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MetricsController } from './metrics.controller';
import { METRICS_REGISTRY } from '@philotes/metrics';

/**
 * Lets any provider inject the process's registry to register metrics, and serves `/metrics` from
 * it when `serve` is set (PHILOTES_HEALTH_ENABLED).
 */
@Module({})
export class MetricsModule {
  static forRoot(registry: Registry, options: { serve: boolean }): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: options.serve ? [MetricsController] : [],
      providers: [{ provide: METRICS_REGISTRY, useValue: registry }],
      exports: [METRICS_REGISTRY],
    };
  }
}
