import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '@philotes/embedded-pg';
import { eventually } from '../support/eventually';
import { testPort } from '../support/ports';

/** Whether a process runs (a zombie holds no memory: it counts as gone). */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  const text = readFileSync(stat, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Real: an embedded server crashed and restarted, as the chaos run does to the source and the buffer. */
describe('EmbeddedPostgres.kill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'philotes-kill-'));
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    server = new EmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await testPort(), fast: true, settings: { synchronous_commit: 'on' } });
    await server.initialise();
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('crashes the backends with the postmaster, so the server restarts at once and recovers its commits', async () => {
    await server.withClient((client) => client.query('CREATE TABLE kept AS SELECT 42 AS v'));
    // A backend busy in a long computation does not look for its postmaster; left alone it keeps
    // the shared memory, and a restart fails while it runs.
    const busy = new Client({ connectionString: server.url() });
    busy.on('error', () => undefined);
    await busy.connect();
    const pid = (await busy.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const computing = busy.query('SELECT count(*) FROM generate_series(1, 10000000000)').catch(() => undefined);
    await eventually('the computation to run', async () =>
      server.withClient(async (client) => (await client.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid])).rowCount === 1),
    );

    await server.kill();
    expect(running(pid)).toBe(false);
    await server.start();
    await computing;
    await busy.end().catch(() => undefined);
    expect(await server.withClient(async (client) => (await client.query<{ v: number }>('SELECT v FROM kept')).rows)).toEqual([{ v: 42 }]);
  });
});
