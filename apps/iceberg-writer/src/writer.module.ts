import { Module } from '@nestjs/common';
import { IcebergWriterWorker } from './iceberg-writer.worker';
import { warehouseProviders } from './warehouse';

/** The writer and its warehouse; imported by the app and by its health checks. */
@Module({
  providers: [...warehouseProviders, IcebergWriterWorker],
  exports: [...warehouseProviders, IcebergWriterWorker],
})
export class WriterModule {}
