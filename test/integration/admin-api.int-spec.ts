import { Client } from 'pg';
import { CONTROL_CHANNEL } from '@philotes/buffer';
import { AppProcess, httpGet } from '../support/app-process';
import { ADMIN_TOKEN, api, RunningAdmin, startAdmin } from '../support/admin';
import { createTestDatabase, query, TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { seedDeadLetters } from '../support/dead-letters';

interface ErrorBody {
  statusCode: number;
  message: string;
  fields?: Array<{ field: string; problems: string[] }>;
  status?: string;
}

/** Real: a dlq-admin process over HTTP and its buffer database; dead letters seeded as the writer stores them. */
describe('dlq-admin API: auth, bad input, pagination, retention', () => {
  let buffer: TestDatabase;
  let admin: RunningAdmin;
  let ids: string[];

  beforeAll(async () => {
    buffer = await createTestDatabase('philotes_admin');
    admin = await startAdmin(buffer.url, { PHILOTES_ADMIN_REPLAY_LIMIT: '50', PHILOTES_DLQ_RETENTION: '1h', PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL: '1s' });
    ids = await seedDeadLetters(buffer.url, 'orders', 25);
    await seedDeadLetters(buffer.url, 'payments', 3, 'conflict');
  });

  afterAll(async () => {
    await admin?.process.stop();
    await buffer?.drop();
  });

  it('requires the bearer token on every API route; health, metrics and docs stay open', async () => {
    for (const [method, path] of [['GET', '/api/v1/dead-letters'], ['GET', `/api/v1/dead-letters/${ids[0]}`], ['POST', `/api/v1/dead-letters/${ids[0]}/replay`], ['GET', '/api/v1/pipelines'], ['POST', '/api/v1/sources/shop/pause']] as const) {
      const missing = await api<ErrorBody>(admin, method, path, { token: null });
      expect([path, missing.status]).toEqual([path, 401]);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await api<ErrorBody>(admin, method, path, { token: `${ADMIN_TOKEN}x` });
      expect([path, wrong.status]).toEqual([path, 401]);
    }
    expect((await api(admin, 'GET', '/api/v1/dead-letters')).status).toBe(200);
    expect((await httpGet(`${admin.base}/health/live`)).status).toBe(200);
    expect((await httpGet(`${admin.base}/metrics`)).body).toMatch(/philotes_dead_letters\{status="pending"[^}]*\} 28/);
    const docs = await httpGet(`${admin.base}/docs-json`);
    expect(Object.keys(docs.json<{ paths: Record<string, unknown> }>().paths)).toEqual(expect.arrayContaining(['/api/v1/dead-letters', '/api/v1/dead-letters/{id}/replay', '/api/v1/pipelines']));
    expect((await httpGet(`${admin.base}/docs`)).status).toBe(200);
    // The letters were never touched by the refused requests.
    expect((await query(buffer.url, "SELECT 1 FROM cdc_dead_letters WHERE status <> 'pending'")).length).toBe(0);
  });

  it('pages newest first by keyset, with filters that reach SQL only as parameters', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await api<{ items: Array<{ id: string; table: string; errorClass: string }>; nextCursor?: string }>(
        admin, 'GET', `/api/v1/dead-letters?table=orders&limit=10${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i) => i.id));
      if (!page.body.nextCursor) break;
      after = page.body.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const conflicts = await api<{ items: Array<{ errorClass: string }> }>(admin, 'GET', '/api/v1/dead-letters?errorClass=conflict');
    expect(conflicts.body.items.map((i) => i.errorClass)).toEqual(['conflict', 'conflict', 'conflict']);
    const injected = await api<{ items: unknown[] }>(admin, 'GET', `/api/v1/dead-letters?table=${encodeURIComponent("orders' OR '1'='1")}`);
    expect([injected.status, injected.body.items]).toEqual([200, []]);
    const window = await api<{ items: unknown[] }>(admin, 'GET', '/api/v1/dead-letters?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z');
    expect(window.body.items).toEqual([]);
  });

  it('shows one letter with its event decoded exactly and its history, and counts by table and error class', async () => {
    const one = await api<{ payload: { after: Record<string, unknown> }; commitTs: string; history: unknown[]; columns: unknown[] }>(admin, 'GET', `/api/v1/dead-letters/${ids[0]}`);
    expect(one.status).toBe(200);
    expect(one.body.payload.after).toEqual({ id: '9007199254740993', amount: 'NaN', note: 'row 0' });
    expect(one.body.commitTs).toBe('2026-11-20T10:00:00.123456Z');
    expect(one.body.history).toEqual([{ event: 'failed' }]);
    const stats = await api<{ total: Record<string, number>; byTable: Array<Record<string, unknown>>; byErrorClass: Array<Record<string, unknown>> }>(admin, 'GET', '/api/v1/dead-letters/stats');
    expect(stats.body.total).toMatchObject({ pending: 28, total: 28 });
    expect(stats.body.byTable).toEqual(expect.arrayContaining([expect.objectContaining({ table: 'orders', pending: 25 }), expect.objectContaining({ table: 'payments', pending: 3 })]));
    expect(stats.body.byErrorClass).toEqual(expect.arrayContaining([expect.objectContaining({ errorClass: 'poison', total: 25 })]));
  });

  it.each([
    ['malformed JSON', 'POST', `/replay-placeholder`, '{"limit": 5,', 'body'],
    ['an unknown field', 'POST', '/api/v1/dead-letters/replay', { limit: 5, colour: 'red' }, 'colour'],
    ['a wrong type', 'POST', '/api/v1/dead-letters/replay', { limit: 'ten' }, 'limit'],
    ['a limit past the configured bound', 'POST', '/api/v1/dead-letters/replay', { limit: 51 }, 'limit'],
    ['an out-of-range page size', 'GET', '/api/v1/dead-letters?limit=5000', undefined, 'limit'],
    ['a page size that is not a number', 'GET', '/api/v1/dead-letters?limit=abc', undefined, 'limit'],
    ['an unknown query parameter', 'GET', '/api/v1/dead-letters?colour=red', undefined, 'colour'],
    ['an unknown status', 'GET', '/api/v1/dead-letters?status=lost', undefined, 'status'],
    ['a malformed date', 'GET', '/api/v1/dead-letters?from=yesterday', undefined, 'from'],
    ['a malformed cursor', 'GET', '/api/v1/dead-letters?after=-1', undefined, 'after'],
    ['a cursor beyond 64 bits', 'GET', '/api/v1/dead-letters?after=9999999999999999999', undefined, 'after'],
    ['a malformed source', 'GET', "/api/v1/dead-letters?source=x'--", undefined, 'source'],
    ['a malformed id', 'GET', '/api/v1/dead-letters/abc', undefined, 'id'],
    ['an id beyond 64 bits', 'GET', '/api/v1/dead-letters/9223372036854775808', undefined, 'id'],
    ['a discard without a reason', 'POST', `/discard-placeholder`, {}, 'reason'],
    ['a discard reason of the wrong type', 'POST', `/discard-placeholder`, { reason: 42 }, 'reason'],
    ['a malformed source in a pause', 'POST', '/api/v1/sources/Bad Source/pause', {}, 'source'],
    ['a JSON array for a body', 'POST', '/api/v1/dead-letters/replay', '[{"limit": 5}]', 'body'],
    ['a JSON string for a body', 'POST', `/discard-placeholder`, '"just a reason"', 'body'],
    ['a repeated query parameter', 'GET', '/api/v1/dead-letters?limit=1&limit=2', undefined, 'limit'],
    ['a parameter name with brackets', 'GET', '/api/v1/dead-letters?source[]=shop', undefined, 'source[]'],
  ] as const)('answers 400 naming the field for %s', async (_case, method, rawPath, body, field) => {
    const path = rawPath.replace('/replay-placeholder', `/api/v1/dead-letters/${ids[1]}/replay`).replace('/discard-placeholder', `/api/v1/dead-letters/${ids[1]}/discard`);
    const answer = await api<ErrorBody>(admin, method, path, { body });
    expect([answer.status, answer.body]).toEqual([400, expect.objectContaining({ statusCode: 400, fields: expect.any(Array) })]);
    expect(answer.body.fields?.map((f) => f.field)).toContain(field);
    expect(answer.body.message).toEqual(expect.any(String));
    // Nothing moved.
    const [{ status }] = await query<{ status: string }>(buffer.url, 'SELECT status FROM cdc_dead_letters WHERE id = $1', [ids[1]]);
    expect(status).toBe('pending');
  });

  it('answers 404 for unknown ids, sources and tables', async () => {
    expect((await api(admin, 'GET', '/api/v1/dead-letters/999999')).status).toBe(404);
    expect((await api(admin, 'POST', '/api/v1/dead-letters/999999/replay')).status).toBe(404);
    expect((await api(admin, 'POST', '/api/v1/dead-letters/999999/discard', { body: { reason: 'x' } })).status).toBe(404);
    expect((await api(admin, 'POST', '/api/v1/sources/nowhere/pause', { body: {} })).status).toBe(404);
    expect((await api(admin, 'POST', '/api/v1/sources/shop/tables/public/missing/pause', { body: {} })).status).toBe(404);
  });

  it('answers 409 for a conflicting state change, and a repeated replay request queues once', async () => {
    const discarded = await api(admin, 'POST', `/api/v1/dead-letters/${ids[2]}/discard`, { body: { reason: 'test data', requestedBy: 'alice' } });
    expect([discarded.status, discarded.body]).toEqual([200, { status: 'discarded' }]);
    const replayDiscarded = await api<ErrorBody>(admin, 'POST', `/api/v1/dead-letters/${ids[2]}/replay`);
    expect(replayDiscarded.status).toBe(409);
    expect(replayDiscarded.body).toMatchObject({ status: 'discarded', message: expect.stringMatching(/discarded/) });
    expect((await api(admin, 'POST', `/api/v1/dead-letters/${ids[2]}/discard`, { body: { reason: 'again' } })).status).toBe(409);

    const first = await api(admin, 'POST', `/api/v1/dead-letters/${ids[3]}/replay`, { body: { requestedBy: 'bob' } });
    const second = await api(admin, 'POST', `/api/v1/dead-letters/${ids[3]}/replay`);
    expect([first.status, first.body]).toEqual([202, { status: 'replaying', alreadyQueued: false }]);
    expect([second.status, second.body]).toEqual([202, { status: 'replaying', alreadyQueued: true }]);
    expect((await api(admin, 'POST', `/api/v1/dead-letters/${ids[3]}/discard`, { body: { reason: 'too late' } })).status).toBe(409);
    const detail = await api<{ status: string; statusReason: string | null; history: Array<Record<string, unknown>> }>(admin, 'GET', `/api/v1/dead-letters/${ids[2]}`);
    expect(detail.body.statusReason).toBe('test data');
    expect(detail.body.history.map((h) => [h.event, h.by ?? null])).toEqual([['failed', null], ['discarded', 'alice']]);
  });

  it('removes settled dead letters past the retention, never a pending or replaying one, which it reports', async () => {
    const old = await seedDeadLetters(buffer.url, 'archive', 5);
    // One statement: retention runs every second and must never see them old but not yet in their status.
    // Twice the retention (1h) old, while the seeded ones are minutes old at most: no race with the clock.
    await query(
      buffer.url,
      `UPDATE cdc_dead_letters SET created_at = now() - interval '2 hours',
              status = CASE id WHEN $2::bigint THEN 'replaying' WHEN $3::bigint THEN 'discarded' WHEN $4::bigint THEN 'replayed' WHEN $5::bigint THEN 'superseded' ELSE status END
        WHERE id = ANY($1::bigint[])`,
      [old, old[0], old[1], old[2], old[3]],
    );
    // Left: the one being replayed and the pending one (old[4]), whatever their age.
    await eventually('expired settled dead letters to go', async () => {
      const left = await query<{ id: string }>(buffer.url, 'SELECT id::text FROM cdc_dead_letters WHERE id = ANY($1::bigint[]) ORDER BY id', [old]);
      return JSON.stringify(left.map((r) => r.id)) === JSON.stringify([old[0], old[4]]);
    });
    // Fresh ones stay, whatever their status.
    expect((await query(buffer.url, 'SELECT 1 FROM cdc_dead_letters WHERE id = ANY($1::bigint[])', [ids])).length).toBe(ids.length);
    const metrics = (await httpGet(`${admin.base}/metrics`)).body;
    expect(metrics).toMatch(/philotes_dead_letters_expired_total(\{[^}]*\})? 3\n/);
    expect(metrics).toMatch(/philotes_dead_letters_pending_past_retention(\{[^}]*\})? 1\n/);
  });

  it('refuses a discard by filter with no filter (400 naming it), discarding nothing', async () => {
    const answer = await api<ErrorBody>(admin, 'POST', '/api/v1/dead-letters/discard', { body: { reason: 'clean up everything', limit: 10 } });
    expect([answer.status, answer.body.fields?.map((f) => f.field)]).toEqual([400, ['filter']]);
    expect((await query(buffer.url, "SELECT 1 FROM cdc_dead_letters WHERE status = 'discarded' AND status_reason = 'clean up everything'")).length).toBe(0);
  });

  it('replays by filter across more tables than one NOTIFY payload lists (8,000 bytes), waking every writer', async () => {
    // 2,000 tables of another source, one pending letter each; table ids reach five digits.
    await query(buffer.url, `INSERT INTO cdc_tables (source_id, schema_name, table_name) SELECT 'bulk', 'public', 't' || g FROM generate_series(1, 2000) g`);
    await query(
      buffer.url,
      `INSERT INTO cdc_dead_letters (table_id, commit_lsn, seq, op, xid, commit_ts, schema_version, payload, error_kind, error_message, attempts, history)
       SELECT table_id, '0/1', 0, 'I', 700, now(), 1, decode('80', 'hex'), 'poison', 'seeded', 3, '[]' FROM cdc_tables WHERE source_id = 'bulk'`,
    );
    const listener = new Client({ connectionString: buffer.url });
    await listener.connect();
    const woken = new Set<number>();
    listener.on('notification', (notice) => {
      for (const id of (JSON.parse(notice.payload ?? '{}') as { t?: number[] }).t ?? []) woken.add(id);
    });
    await listener.query(`LISTEN ${CONTROL_CHANNEL}`);
    const wide = await startAdmin(buffer.url);
    try {
      const answer = await api(wide, 'POST', '/api/v1/dead-letters/replay', { body: { source: 'bulk', limit: 5000 } });
      expect([answer.status, answer.body]).toEqual([202, { count: 2000, more: false }]);
      await eventually('every table woken', async () => woken.size === 2000);
    } finally {
      await wide.process.stop();
      await listener.end();
    }
    const [{ replaying }] = await query<{ replaying: number }>(buffer.url, "SELECT count(*)::int AS replaying FROM cdc_dead_letters d JOIN cdc_tables t USING (table_id) WHERE t.source_id = 'bulk' AND d.status = 'replaying'");
    expect(replaying).toBe(2000);
  });

  it('refuses to start without a token, and refuses the no-token opt-out in production', async () => {
    const without = AppProcess.start('dlq-admin', { PHILOTES_DATABASE_URL: buffer.url, PHILOTES_ADMIN_LISTEN_ADDR: '127.0.0.1:1' });
    expect((await without.exit()).code).toBe(1);
    expect(without.output.join('\n')).toMatch(/PHILOTES_ADMIN_TOKEN: required by dlq-admin/);
    const production = AppProcess.start('dlq-admin', { PHILOTES_DATABASE_URL: buffer.url, PHILOTES_ADMIN_AUTH_DISABLED: 'true', NODE_ENV: 'production' });
    expect((await production.exit()).code).toBe(1);
    expect(production.output.join('\n')).toMatch(/PHILOTES_ADMIN_AUTH_DISABLED="true": .*refused when NODE_ENV=production/);
  });
});
