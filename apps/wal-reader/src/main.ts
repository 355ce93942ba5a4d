import 'reflect-metadata';
import { redactText } from '@philotes/logging';
import { runPhilotesApp } from '@philotes/runtime';
import { WalReaderModule } from './wal-reader.module';

runPhilotesApp({
  app: 'wal-reader',
  module: (context) => WalReaderModule.forRoot(context),
  listenAddress: (settings) => (settings.healthEnabled ? settings.healthListenAddress : undefined),
}).catch((error: unknown) => {
  process.stderr.write(`wal-reader: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
});
