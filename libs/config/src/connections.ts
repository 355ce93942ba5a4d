import { PhilotesSettings } from './settings';

/** Connection parameters in the shape `pg` takes. */
export interface PostgresConnection {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
}

/** The source: PHILOTES_CDC_SOURCE_URL when set, else the five parts. */
export function sourceConnection(settings: Readonly<PhilotesSettings>): PostgresConnection {
  if (settings.sourceUrl) return { connectionString: settings.sourceUrl };
  return {
    host: settings.sourceHost,
    port: settings.sourcePort,
    database: settings.sourceDatabase,
    user: settings.sourceUser,
    password: settings.sourcePassword,
  };
}

export function bufferConnection(settings: Readonly<PhilotesSettings>): PostgresConnection {
  return { connectionString: settings.databaseUrl };
}
