import { DynamicModule, Module } from '@nestjs/common';
import { coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';
import { IcebergWriterWorker } from './iceberg-writer.worker';
import { WriterModule } from './writer.module';
import { WriterReadinessCheck } from './writer-readiness.check';

/** Turns buffered changes into Apache Iceberg tables. */
@Module({})
export class IcebergWriterModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: IcebergWriterModule,
      imports: [...coreImports(context, { checks: [WriterReadinessCheck], checkImports: [WriterModule] }), WriterModule],
      providers: [{ provide: PIPELINE_WORKERS, useFactory: (worker: IcebergWriterWorker) => [worker], inject: [IcebergWriterWorker] }],
    };
  }
}
