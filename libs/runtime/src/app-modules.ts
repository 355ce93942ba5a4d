import { DynamicModule, Type } from '@nestjs/common';
import { HealthCheck, HealthModule } from '@philotes/health';
import { PhilotesCoreModule } from './core.module';
import { CORE_HEALTH_CHECKS } from './health-checks';
import { ProcessContext } from './process-context';

/**
 * The modules every app imports: the process context, `/metrics`, and `/health` with the core
 * checks plus the app's own (when PHILOTES_HEALTH_ENABLED).
 */
export function coreImports(
  context: ProcessContext,
  app: { readonly checks?: ReadonlyArray<Type<HealthCheck>>; readonly checkImports?: ReadonlyArray<Type<unknown>> } = {},
): DynamicModule[] {
  const settings = context.config.settings;
  const imports = [PhilotesCoreModule.forRoot(context)];
  if (settings.healthEnabled) {
    imports.push(
      HealthModule.forRoot({
        checks: [...CORE_HEALTH_CHECKS, ...(app.checks ?? [])],
        imports: app.checkImports,
        timeoutMs: settings.healthReadinessTimeoutMs,
      }),
    );
  }
  return imports;
}
