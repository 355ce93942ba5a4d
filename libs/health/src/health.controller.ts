import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck as TerminusHealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HEALTH_CHECKS, HEALTH_OPTIONS } from './health-check';
import type { HealthCheck, HealthOptions, Probe } from './health-check';

/**
 * `/health` every check with details; `/health/live` whether the process should be restarted;
 * `/health/ready` whether it can do its job now. 200 when all pass, 503 with the failures otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(HEALTH_CHECKS) private readonly checks: readonly HealthCheck[],
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  @Get()
  @TerminusHealthCheck()
  all(): Promise<HealthCheckResult> {
    return this.run(this.checks);
  }

  @Get('live')
  @TerminusHealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.run(this.for('live'));
  }

  @Get('ready')
  @TerminusHealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.run(this.for('ready'));
  }

  private for(probe: Probe): readonly HealthCheck[] {
    return this.checks.filter((check) => check.probes.includes(probe));
  }

  private run(checks: readonly HealthCheck[]): Promise<HealthCheckResult> {
    return this.health.check(
      checks.map((check) => () =>
        this.indicators
          .check(check.name)
          .attempt(({ signal }) => check.check(signal))
          .withTimeout(this.options.timeoutMs),
      ),
    );
  }
}
