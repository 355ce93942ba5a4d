import { DynamicModule, Module } from '@nestjs/common';
import { coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';
import { ReaderModule } from './reader.module';
import { ReaderReadinessCheck } from './reader-readiness.check';
import { WalReaderWorker } from './wal-reader.worker';

/** Reads the source's WAL by logical replication and writes each change to the buffer database. */
@Module({})
export class WalReaderModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: WalReaderModule,
      imports: [...coreImports(context, { checks: [ReaderReadinessCheck], checkImports: [ReaderModule] }), ReaderModule],
      providers: [{ provide: PIPELINE_WORKERS, useFactory: (worker: WalReaderWorker) => [worker], inject: [WalReaderWorker] }],
    };
  }
}
