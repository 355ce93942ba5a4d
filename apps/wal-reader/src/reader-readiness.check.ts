import { Injectable } from '@nestjs/common';
import { HealthCheck, Probe } from '@philotes/health';
import { WalReaderWorker } from './wal-reader.worker';

/** Ready while streaming (or copying) as the source's leader, or standing by for it. */
@Injectable()
export class ReaderReadinessCheck implements HealthCheck {
  readonly name = 'replication';
  readonly probes: readonly Probe[] = ['ready'];

  constructor(private readonly worker: WalReaderWorker) {}

  async check(): Promise<Record<string, unknown>> {
    const { role, streaming } = this.worker.reader.status;
    if (role === 'standby') return { role };
    if (role === 'active' && streaming) return { role, streaming };
    throw new Error(role === 'active' ? 'preparing the source' : 'not connected to the source and buffer');
  }
}
