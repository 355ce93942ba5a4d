import { DynamicModule, Module } from '@nestjs/common';
import { coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';

/** Turns buffered changes into Apache Iceberg tables. */
@Module({})
export class IcebergWriterModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: IcebergWriterModule,
      imports: coreImports(context),
      // Its pipeline work arrives with the app's issue; the lifecycle already runs it.
      providers: [{ provide: PIPELINE_WORKERS, useValue: [] }],
    };
  }
}
