import 'reflect-metadata';
import { redactText } from '@philotes/logging';
import { runPhilotesApp } from '@philotes/runtime';
import { DlqAdminModule } from './dlq-admin.module';

runPhilotesApp({
  app: 'dlq-admin',
  module: (context) => DlqAdminModule.forRoot(context),
  listenAddress: (settings) => settings.adminListenAddress,
}).catch((error: unknown) => {
  process.stderr.write(`dlq-admin: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
});
