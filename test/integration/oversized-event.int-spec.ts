import { Client } from 'pg';
import { api, RunningAdmin, startAdmin } from '../support/admin';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { metricValue } from '../support/metrics';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse } from '../support/writer';

const LIMIT = { PHILOTES_CDC_MAX_EVENT_BYTES: '1MB' };

/**
 * Real: reader, writer and admin processes. A change larger than PHILOTES_CDC_MAX_EVENT_BYTES — in
 * the stream or in an initial copy — is never taken into the reader's memory: it is stored as its
 * size, goes to the dead letters with the reason, and everything around it flows on, without a
 * restart at its position.
 */
describe('a change larger than the event limit', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let reader: RunningReader;
  let writer: RunningWriter;
  let admin: RunningAdmin;

  const ids = async (table: string) => ((await readIcebergTable(dbs.buffer.url, 'public', table))?.rows ?? []).map((r) => Number(r.id)).sort((a, b) => a - b);

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE docs (id int PRIMARY KEY, body text, blob bytea)');
    // Copied, not streamed: one row of 2 MB among small ones.
    await source.query("INSERT INTO docs VALUES (1, 'small', NULL), (2, repeat('c', 2000000), NULL), (3, 'small too', NULL)");
    reader = await startReader(dbs, LIMIT);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    writer = await startWriter(dbs, tempWarehouse());
    admin = await startAdmin(dbs.buffer.url);
  });

  afterAll(async () => {
    await Promise.all([writer?.process.stop(), admin?.process.stop(), reader?.process.stop()]);
    await source?.end();
    await dbs?.drop();
  });

  it('goes to the dead letters with its size and the reason, from the copy and from the stream; the rest flows', async () => {
    await eventually('the copy applied', async () => JSON.stringify(await ids('docs')) === JSON.stringify([1, 3]), { timeoutMs: 60_000 });
    // Streamed: 3 MB of text, and 600 kB of bytea (1.2 MB as pgoutput's hex), between small rows.
    await source.query(`BEGIN; INSERT INTO docs VALUES (10, 'before', NULL); INSERT INTO docs VALUES (11, repeat('s', 3000000), NULL);
                        INSERT INTO docs VALUES (12, 'between', NULL); INSERT INTO docs VALUES (13, NULL, decode(repeat('ab', 600000), 'hex')); COMMIT`);
    await source.query("UPDATE docs SET body = repeat('u', 1500000) WHERE id = 1");
    await source.query("INSERT INTO docs VALUES (14, 'after', NULL)");
    await waitCaughtUp(dbs);
    await eventually('the small rows applied', async () => JSON.stringify(await ids('docs')) === JSON.stringify([1, 3, 10, 12, 14]), { timeoutMs: 60_000 });

    const letters = await eventually('four dead letters', async () => {
      const rows = await query<{ id: string; op: string; error_kind: string; error_message: string; seq: string }>(
        dbs.buffer.url,
        'SELECT id::text, op, error_kind, error_message, seq::text FROM cdc_dead_letters ORDER BY commit_lsn, seq',
      );
      return rows.length === 4 ? rows : undefined;
    });
    expect(letters.map((l) => [l.op, l.error_kind])).toEqual([
      ['R', 'oversized'],
      ['I', 'oversized'],
      ['I', 'oversized'],
      ['U', 'oversized'],
    ]);
    for (const letter of letters) expect(letter.error_message).toMatch(/^the change was \d+ bytes as the source sent it, over PHILOTES_CDC_MAX_EVENT_BYTES/);
    const detail = (await api<{ payload: { oversizedBytes?: number; after?: unknown } }>(admin, 'GET', `/api/v1/dead-letters/${letters[1].id}`)).body;
    expect(detail.payload.oversizedBytes).toBeGreaterThan(3_000_000);
    expect(detail.payload.after).toBeUndefined();
    // The bytea row is 600 kB, under the limit once encoded: only the replication connection's
    // filter, which weighs the message as sent (hex, 1.2 MB), sets it aside.
    const bytea = (await api<{ payload: { oversizedBytes?: number } }>(admin, 'GET', `/api/v1/dead-letters/${letters[2].id}`)).body;
    expect(bytea.payload.oversizedBytes).toBeGreaterThan(1_200_000);
    expect(await metricValue(reader.base, 'philotes_cdc_oversized_events_total', { table: 'public.docs' })).toBe(4);
    // The stream never restarted at the large change: one session throughout.
    expect(reader.process.logs.filter((line) => line.message === 'streaming')).toHaveLength(1);
    expect(reader.process.logs.some((line) => String(line.message).startsWith('reconnecting'))).toBe(false);
  });
});
