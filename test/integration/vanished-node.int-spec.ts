import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { LockSpace } from '@philotes/db';
import { EmbeddedPostgres } from '@philotes/embedded-pg';
import { AppProcess } from '../support/app-process';
import { CaptureDatabases, readerEnv } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { IsolatedHost } from '../../tools/dev/netns';
import { testPort } from '../support/ports';
import { readIcebergTable, tempWarehouse, writerEnv } from '../support/writer';

/** Short, so the test waits seconds: production's default is 30 s. */
const DEAD_PEER = { PHILOTES_TCP_USER_TIMEOUT: '6s' };

/**
 * Real: a reader and a writer on a host of their own (a network namespace), a standby of each on
 * this machine, one PostgreSQL for source and buffer. The host drops off the network without
 * closing a socket; within the dead-peer timeout the databases drop its sessions, and with them
 * the leader lock, the table leases and the replication slot: the standbys take over and changes
 * flow again. (Without the setting the server keeps those sessions for the kernel's two hours.)
 */
describe('a node that vanishes', () => {
  let host: IsolatedHost;
  let server: EmbeddedPostgres;
  let dbs: CaptureDatabases;
  const apps: AppProcess[] = [];
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    host = IsolatedHost.create();
    server = new EmbeddedPostgres({
      dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-netns-')), 'pg'),
      port: await testPort(),
      fast: true,
      settings: { listen_addresses: `127.0.0.1,${host.hostAddress}` },
    });
    await server.initialise();
    appendFileSync(join((server as unknown as { options: { dataDir: string } }).options.dataDir, 'pg_hba.conf'), `\nhost all all ${host.peerAddress}/32 scram-sha-256\nhost replication all ${host.peerAddress}/32 scram-sha-256\n`);
    await server.start();
    await server.createDatabase('source');
    await server.createDatabase('buffer');
    dbs = {
      source: { name: 'source', url: server.url('source'), drop: async () => undefined },
      buffer: { name: 'buffer', url: server.url('buffer'), drop: async () => undefined },
      slot: 'slot_vanish',
      publication: 'pub_vanish',
      drop: async () => undefined,
    };
    const source = new Client({ connectionString: dbs.source.url });
    await source.connect();
    await source.query('CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO a VALUES (1, \'one\'); INSERT INTO b VALUES (1, \'one\')');
    await source.end();
  });

  afterAll(async () => {
    for (const app of apps) app.signal('SIGKILL');
    await Promise.all(apps.map((app) => app.exit()));
    host?.destroy();
    await server?.stop();
  });

  it('gives up its leader lock, table leases and slot within the timeout: the standbys take over', async () => {
    // The same databases, seen from the isolated host at this machine's address on the pair.
    const remote = (url: string) => url.replace('@127.0.0.1:', `@${host.hostAddress}:`);
    const remoteDbs: CaptureDatabases = { ...dbs, source: { ...dbs.source, url: remote(dbs.source.url) }, buffer: { ...dbs.buffer, url: remote(dbs.buffer.url) } };
    const start = async (app: 'wal-reader' | 'iceberg-writer', env: Record<string, string>, netns?: string) => {
      const process = AppProcess.start(app, { ...env, ...DEAD_PEER, PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await testPort()}` }, [], netns ? { netns } : {});
      apps.push(process);
      return process;
    };
    const farReader = await start('wal-reader', { ...readerEnv(remoteDbs), PHILOTES_INSTANCE_ID: 'far-reader' }, host.netns);
    await farReader.waitForLog('streaming', (line) => line.message === 'streaming', 60_000);
    const farWriter = await start('iceberg-writer', { ...writerEnv(remoteDbs, warehouse), PHILOTES_INSTANCE_ID: 'far-writer' }, host.netns);
    await eventually('the far writer to mirror both tables', async () => (await rows('a')) === 1 && (await rows('b')) === 1, { timeoutMs: 60_000 });
    const nearReader = await start('wal-reader', { ...readerEnv(dbs), PHILOTES_INSTANCE_ID: 'near-reader' });
    await nearReader.waitForLog('standing by', (line) => String(line.message).startsWith('standing by'), 60_000);
    await start('iceberg-writer', { ...writerEnv(dbs, warehouse), PHILOTES_INSTANCE_ID: 'near-writer' });
    // Two writers share the two tables: each holds one.
    await eventually('the leases shared', async () => (await leaseHolders()).size === 2, { timeoutMs: 30_000 });

    host.cut();
    const source = new Client({ connectionString: dbs.source.url });
    await source.connect();
    await source.query("INSERT INTO a VALUES (2, 'after the cut'); INSERT INTO b VALUES (2, 'after the cut')");
    await source.end();

    // The server drops the far node's sessions: the near reader leads and streams, the near writer
    // holds both tables, and the changes made after the cut reach Iceberg.
    await nearReader.waitForLog('streaming as the leader', (line) => line.message === 'streaming', 90_000);
    await eventually('both tables mirrored again', async () => (await rows('a')) === 2 && (await rows('b')) === 2, { timeoutMs: 90_000 });
    const holders = await leaseHolders();
    expect(holders.size).toBe(1);
    const [{ app }] = await query<{ app: string }>(dbs.buffer.url, "SELECT application_name AS app FROM pg_stat_activity WHERE pid = $1", [[...holders][0]]);
    expect(app).toBe('philotes-iceberg-writer');
    // The far node's sessions are gone from the server (its processes still run, cut off).
    expect(farReader.running && farWriter.running).toBe(true);
    const far = await query(dbs.buffer.url, 'SELECT 1 FROM pg_stat_activity WHERE client_addr = $1', [host.peerAddress]);
    expect(far).toHaveLength(0);
  });

  async function rows(table: string): Promise<number> {
    return ((await readIcebergTable(dbs.buffer.url, 'public', table))?.rows ?? []).length;
  }

  /** Backends holding writer table leases (advisory locks in the writers' lock space). */
  async function leaseHolders(): Promise<Set<number>> {
    const locks = await query<{ pid: number }>(dbs.buffer.url, "SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'philotes-iceberg-writer' AND l.classid = $1", [LockSpace.WriterTable]);
    return new Set(locks.map((l) => l.pid));
  }
});
