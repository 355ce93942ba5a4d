import 'reflect-metadata';
import { redactText } from '@philotes/logging';
import { runPhilotesApp } from '@philotes/runtime';
import { adminAuthProblems } from './admin-auth';
import { apiValidationPipe } from './api-errors';
import { DlqAdminModule } from './dlq-admin.module';
import { serveOpenApi } from './openapi';

runPhilotesApp({
  app: 'dlq-admin',
  module: (context) => DlqAdminModule.forRoot(context),
  listenAddress: (settings) => settings.adminListenAddress,
  requirements: adminAuthProblems,
  configure: (app) => {
    app.useGlobalPipes(apiValidationPipe());
    serveOpenApi(app);
  },
}).catch((error: unknown) => {
  process.stderr.write(`dlq-admin: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
});
