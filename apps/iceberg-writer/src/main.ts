import 'reflect-metadata';
import { redactText } from '@philotes/logging';
import { runPhilotesApp } from '@philotes/runtime';
import { IcebergWriterModule } from './iceberg-writer.module';

runPhilotesApp({
  app: 'iceberg-writer',
  module: (context) => IcebergWriterModule.forRoot(context),
  listenAddress: (settings) => (settings.healthEnabled ? settings.healthListenAddress : undefined),
}).catch((error: unknown) => {
  process.stderr.write(`iceberg-writer: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
});
