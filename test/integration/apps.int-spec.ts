
import { AppName, AppProcess, eventuallyStatus, httpGet } from '../support/app-process';
import { createTestDatabase, query, TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { testPort } from '../support/ports';

/**
 * Real: PostgreSQL (a fresh database), the built apps as separate processes, HTTP.
 * Nothing is stubbed.
 */
describe('the three apps', () => {
  let database: TestDatabase;
  let source: TestDatabase;
  const running: AppProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    source = await createTestDatabase('philotes_src');
  });

  afterAll(async () => {
    await Promise.all(running.map((app) => app.stop()));
    await database.drop();
    await source.drop();
  });

  async function boot(app: AppName): Promise<{ process: AppProcess; base: string }> {
    const port = await testPort();
    const address = `127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PHILOTES_DATABASE_URL: database.url,
      PHILOTES_INSTANCE_ID: `${app}-under-test`,
      PHILOTES_HEARTBEAT_INTERVAL: '200ms',
      [app === 'dlq-admin' ? 'PHILOTES_ADMIN_LISTEN_ADDR' : 'PHILOTES_HEALTH_LISTEN_ADDR']: address,
      ...(app === 'dlq-admin' ? { PHILOTES_ADMIN_TOKEN: 'apps-test-token-0123456789' } : {}),
      // The reader is ready only once it streams from a source.
      ...(app === 'wal-reader' ? { PHILOTES_CDC_SOURCE_URL: source.url, PHILOTES_CDC_REPLICATION_SLOT: `boot_${source.name}`, PHILOTES_CDC_PUBLICATION: 'boot_pub' } : {}),
    };
    const process = AppProcess.start(app, env);
    running.push(process);
    return { process, base: `http://${address}` };
  }

  it.each<AppName>(['wal-reader', 'iceberg-writer', 'dlq-admin'])(
    '%s boots, serves health and metrics, records its state, and stops cleanly on SIGTERM',
    async (app) => {
      const { process, base } = await boot(app);

      const ready = await eventuallyStatus(`${base}/health/ready`, 200);
      expect(ready.json()).toMatchObject({
        status: 'ok',
        details: { buffer_database: { status: 'up' }, pipeline_state: { status: 'up', state: 'running' } },
      });
      const live = await httpGet(`${base}/health/live`);
      expect(live.status).toBe(200);
      expect(live.json()).toMatchObject({ details: { lifecycle: { status: 'up', state: 'running' } } });
      const all = await httpGet(`${base}/health`);
      const appChecks: Record<AppName, string[]> = { 'wal-reader': ['replication'], 'iceberg-writer': ['warehouse'], 'dlq-admin': [] };
      expect(Object.keys(all.json<{ details: object }>().details).sort()).toEqual(['buffer_database', 'lifecycle', 'pipeline_state', ...appChecks[app]].sort());

      const metrics = await httpGet(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain(`philotes_pipeline_state{state="running",app="${app}"} 1`);
      expect(metrics.body).toMatch(/^process_cpu_user_seconds_total\{app="[a-z-]+"\} /m);
      expect(metrics.body).toContain('nodejs_eventloop_lag_seconds');

      const instanceId = `${app}-under-test`;
      const [row] = await eventually('the running state row', async () => {
        const rows = await query<{ state: string; app: string; heartbeat_at: Date }>(database.url, 'SELECT state, app, heartbeat_at FROM pipeline_instances WHERE instance_id = $1', [instanceId]);
        return rows[0]?.state === 'running' ? rows : undefined;
      });
      expect(row.app).toBe(app);
      // The heartbeat keeps moving while the process lives.
      await eventually('a newer heartbeat', async () => {
        const [next] = await query<{ heartbeat_at: Date }>(database.url, 'SELECT heartbeat_at FROM pipeline_instances WHERE instance_id = $1', [instanceId]);
        return next.heartbeat_at.getTime() > row.heartbeat_at.getTime();
      });

      process.signal('SIGTERM');
      expect(await process.exit()).toEqual({ code: 0, signal: null });
      const [final] = await query<{ state: string; reason: string }>(database.url, 'SELECT state, reason FROM pipeline_instances WHERE instance_id = $1', [instanceId]);
      expect(final).toEqual({ state: 'stopped', reason: 'drained' });
      const history = await query<{ from_state: string; to_state: string }>(database.url, 'SELECT from_state, to_state FROM pipeline_transitions WHERE instance_id = $1 ORDER BY id', [instanceId]);
      expect(history.map((t) => `${t.from_state}→${t.to_state}`)).toEqual(['starting→running', 'running→stopping', 'stopping→stopped']);
    },
  );
});
