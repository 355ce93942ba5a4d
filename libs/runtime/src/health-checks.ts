import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { HealthCheck, Probe } from '@philotes/health';
import { PipelineState, StateMachine } from '@philotes/lifecycle';
import { BUFFER_POOL, STATE_MACHINE } from './tokens';

/** Ready only while the buffer database answers a query. */
@Injectable()
export class BufferDatabaseCheck implements HealthCheck {
  readonly name = 'buffer_database';
  readonly probes: readonly Probe[] = ['ready'];

  constructor(@Inject(BUFFER_POOL) private readonly pool: Pool) {}

  async check(): Promise<Record<string, unknown>> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw new Error(`buffer database unreachable: ${(error as Error).message}`, { cause: error });
    }
    return { connections: this.pool.totalCount, idle: this.pool.idleCount };
  }
}

/** Alive unless the process failed for good (restarting it is then the operator's best move). */
@Injectable()
export class LifecycleLivenessCheck implements HealthCheck {
  readonly name = 'lifecycle';
  readonly probes: readonly Probe[] = ['live'];

  constructor(@Inject(STATE_MACHINE) private readonly machine: StateMachine) {}

  async check(): Promise<Record<string, unknown>> {
    if (this.machine.state === PipelineState.Failed) throw new Error(`failed: ${this.machine.reason ?? 'no reason recorded'}`);
    return { state: this.machine.state, ...(this.machine.reason ? { reason: this.machine.reason } : {}) };
  }
}

/** Ready once started and until shutdown begins; a paused process is ready (it answers commands). */
@Injectable()
export class LifecycleReadinessCheck implements HealthCheck {
  readonly name = 'pipeline_state';
  readonly probes: readonly Probe[] = ['ready'];

  constructor(@Inject(STATE_MACHINE) private readonly machine: StateMachine) {}

  async check(): Promise<Record<string, unknown>> {
    const state = this.machine.state;
    if (state !== PipelineState.Running && state !== PipelineState.Paused) {
      throw new Error(`${state}${this.machine.reason ? `: ${this.machine.reason}` : ''}`);
    }
    return { state };
  }
}

/** The checks every app has; apps append their own (source, warehouse). */
export const CORE_HEALTH_CHECKS = [LifecycleLivenessCheck, LifecycleReadinessCheck, BufferDatabaseCheck];
