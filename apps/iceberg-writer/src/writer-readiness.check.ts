import { Inject, Injectable } from '@nestjs/common';
import { HealthCheck, Probe } from '@philotes/health';
import type { ObjectStore } from '@philotes/iceberg';
import { IcebergWriterWorker } from './iceberg-writer.worker';
import { OBJECT_STORE } from './warehouse';

/** Ready while connected to the buffer (holding its leases) with a warehouse it can write to. */
@Injectable()
export class WriterReadinessCheck implements HealthCheck {
  readonly name = 'warehouse';
  readonly probes: readonly Probe[] = ['ready'];
  private readonly probe = `.philotes/probe-${process.pid}`;

  constructor(
    private readonly worker: IcebergWriterWorker,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async check(): Promise<Record<string, unknown>> {
    if (!this.worker.service.connected) throw new Error('not connected to the buffer database');
    // A write, not a listing: a read-only or full warehouse must show as not ready.
    const uri = `${this.store.root}/${this.probe}`;
    await this.store.put(uri, Buffer.from('ok'));
    await this.store.delete([uri]);
    return { warehouse: this.store.root.replace(/\/\/[^/@]*@/, '//') };
  }
}
