import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AppProcess, eventuallyStatus } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { testPort } from '../support/ports';

/** Real: the built app processes, real signals, a real config file, PostgreSQL. */
describe('configuration of a running app', () => {
  let database: TestDatabase;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  afterAll(async () => {
    await database.drop();
  });

  it('stops start-up on bad values, naming every variable, value and rule, without leaking secrets', async () => {
    app = AppProcess.start('iceberg-writer', {
      PHILOTES_CDC_BATCH_SIZE: 'lots',
      PHILOTES_BACKPRESSURE_LOW_BYTES: '300MB',
      PHILOTES_DATABASE_URL: 'mysql://philotes:hunter2@db/philotes',
    });
    const exit = await app.exit();
    expect(exit.code).toBe(1);
    const output = app.output.join('\n');
    expect(output).toContain('Invalid configuration (3 problems)');
    expect(output).toContain('PHILOTES_CDC_BATCH_SIZE="lots": must be a whole number');
    expect(output).toContain('PHILOTES_BACKPRESSURE_LOW_BYTES="300MB": must be less than PHILOTES_BACKPRESSURE_HIGH_BYTES (256MB)');
    expect(output).toContain('PHILOTES_DATABASE_URL="***": must be a postgres:// URL');
    expect(output).not.toContain('hunter2');
  });

  it('reloads on SIGHUP, and keeps the old values when the new file is invalid', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'philotes-sighup-')), 'philotes.yaml');
    const write = (yaml: string): void => {
      writeFileSync(`${file}.tmp`, yaml);
      renameSync(`${file}.tmp`, file);
    };
    write('log_level: info\ncdc: { batch_size: 100 }\n');
    const port = await testPort();
    app = AppProcess.start('iceberg-writer', {
      PHILOTES_DATABASE_URL: database.url,
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${port}`,
      PHILOTES_CONFIG_FILE: file,
      PHILOTES_HEARTBEAT_INTERVAL: '200ms',
    });
    await eventuallyStatus(`http://127.0.0.1:${port}/health/ready`, 200);

    // An invalid edit: rejected, logged, and the process keeps running on the old values.
    write('log_level: shouting\n');
    app.signal('SIGHUP');
    const rejected = await app.waitForLog('the rejected reload', (line) => /reload rejected/.test(String(line.message)));
    expect(rejected.problems).toEqual(['PHILOTES_LOG_LEVEL="shouting": must be one of error, warn, info, verbose, debug']);
    expect(app.logs.some((line) => line.level === 'debug')).toBe(false);

    // A valid edit: applied on SIGHUP; the heartbeat's debug lines start to appear.
    write('log_level: debug\ncdc: { batch_size: 200 }\n');
    app.signal('SIGHUP');
    const applied = await app.waitForLog('the applied reload', (line) => line.message === 'configuration reloaded');
    expect(applied.variables).toEqual(expect.arrayContaining(['PHILOTES_LOG_LEVEL', 'PHILOTES_CDC_BATCH_SIZE']));
    await app.waitForLog('a debug line', (line) => line.level === 'debug');
    expect(app.running).toBe(true);
    await eventuallyStatus(`http://127.0.0.1:${port}/health/ready`, 200);
  });
});
