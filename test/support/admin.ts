
import { AppProcess } from './app-process';
import { eventuallyStatus } from './app-process';
import { testPort } from './ports';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningAdmin {
  readonly process: AppProcess;
  readonly base: string;
}

/** A dlq-admin process on a free port, with the test token. */
export async function startAdmin(bufferUrl: string, extra: Record<string, string> = {}): Promise<RunningAdmin> {
  const port = await testPort();
  const process = AppProcess.start('dlq-admin', {
    PHILOTES_DATABASE_URL: bufferUrl,
    PHILOTES_ADMIN_LISTEN_ADDR: `127.0.0.1:${port}`,
    PHILOTES_ADMIN_TOKEN: ADMIN_TOKEN,
    PHILOTES_HEARTBEAT_INTERVAL: '300ms',
    ...extra,
  });
  const admin = { process, base: `http://127.0.0.1:${port}` };
  await eventuallyStatus(`${admin.base}/health/ready`, 200);
  return admin;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/**
 * One request to the admin API with the test token (or `token: null` for none). `body` may be a
 * string, sent as it is (for malformed JSON), or a value sent as JSON.
 */
export async function api<T = Record<string, unknown>>(
  admin: RunningAdmin,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${admin.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (the docs page): kept as text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
