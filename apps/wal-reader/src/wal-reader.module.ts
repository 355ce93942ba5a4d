import { DynamicModule, Module } from '@nestjs/common';
import { coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';

/** Reads the source's WAL by logical replication and writes each change to the buffer database. */
@Module({})
export class WalReaderModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: WalReaderModule,
      imports: coreImports(context),
      // Its pipeline work arrives with the app's issue; the lifecycle already runs it.
      providers: [{ provide: PIPELINE_WORKERS, useValue: [] }],
    };
  }
}
