import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { SOURCE_POOL, sourcePoolProvider } from './source-pool';
import { WalReaderWorker } from './wal-reader.worker';

/** The reader and its source connections; imported by the app and by its health checks. */
@Module({
  providers: [sourcePoolProvider, WalReaderWorker],
  exports: [WalReaderWorker],
})
export class ReaderModule implements OnApplicationShutdown {
  constructor(@Inject(SOURCE_POOL) private readonly sourcePool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sourcePool.end();
  }
}
