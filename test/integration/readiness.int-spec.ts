import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '@philotes/embedded-pg';
import { AppProcess, eventuallyStatus, httpGet } from '../support/app-process';
import { testPort } from '../support/ports';

/**
 * Real: a PostgreSQL server of this test's own (it gets stopped), the built wal-reader process.
 */
describe('readiness follows the buffer database', () => {
  let server: EmbeddedPostgres;
  let app: AppProcess;

  beforeAll(async () => {
    server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-ready-')), 'pg'), port: await testPort(), fast: true });
    await server.initialise();
    await server.start();
    await server.createDatabase('buffer');
  });

  afterAll(async () => {
    await app?.stop();
    await server.stop();
  });

  it('turns 503 when the buffer database stops and 200 when it returns, while staying live', async () => {
    const port = await testPort();
    const base = `http://127.0.0.1:${port}`;
    app = AppProcess.start('iceberg-writer', {
      PHILOTES_DATABASE_URL: server.url('buffer'),
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${port}`,
      PHILOTES_HEALTH_READINESS_TIMEOUT: '1s',
    });
    await eventuallyStatus(`${base}/health/ready`, 200);

    await server.stop();
    const down = await eventuallyStatus(`${base}/health/ready`, 503);
    expect(down.json()).toMatchObject({ status: 'error', error: { buffer_database: { status: 'down' } } });
    expect(down.json<{ error: { buffer_database: { message: string } } }>().error.buffer_database.message).toMatch(/^buffer database unreachable/);
    expect((await httpGet(`${base}/health/live`)).status).toBe(200);

    await server.start();
    const up = await eventuallyStatus(`${base}/health/ready`, 200);
    expect(up.json()).toMatchObject({ details: { buffer_database: { status: 'up' } } });
    expect(app.running).toBe(true);
  });
});
