import { DynamicModule, Module } from '@nestjs/common';
import { coreImports, PIPELINE_WORKERS, ProcessContext } from '@philotes/runtime';

/** The operator's REST API: dead letters, pipeline state, pause and resume. */
@Module({})
export class DlqAdminModule {
  static forRoot(context: ProcessContext): DynamicModule {
    return {
      module: DlqAdminModule,
      imports: coreImports(context),
      // Its pipeline work arrives with the app's issue; the lifecycle already runs it.
      providers: [{ provide: PIPELINE_WORKERS, useValue: [] }],
    };
  }
}
