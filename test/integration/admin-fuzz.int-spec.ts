import { seededRandom } from '@philotes/faults';
import { api, RunningAdmin, startAdmin } from '../support/admin';
import { createTestDatabase, query, TestDatabase } from '../support/database';
import { seedDeadLetters } from '../support/dead-letters';

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: 'path' | 'query' }>;
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
}

const SEED = Number(process.env.PHILOTES_FUZZ_SEED ?? 20261201);
const REQUESTS_PER_ROUTE = Number(process.env.PHILOTES_FUZZ_REQUESTS ?? 40);

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** Text a path segment, query value or JSON string may hold: the valid, the edge and the hostile. */
function fuzzText(random: Random, known: readonly string[]): string {
  return pick(random, [
    () => pick(random, known),
    () => String(Math.floor(random() * 100)),
    () => pick(random, ['0', '-1', '1.5', '1e3', '9999999999999999999', '18446744073709551616', '-9223372036854775809', '0x10', ' 1', 'NaN', 'Infinity']),
    () => pick(random, ['', ' ', '.', '..', '%', '%00', '\u0000', "'; DROP TABLE cdc_events; --", '"', '\\', '/', '?', '#', '&', '=', 'ü', '表', '🦀', '\u202e', 'null', 'true', 'undefined', '__proto__', 'constructor']),
    () => pick(random, ['2026-12-01', '2026-12-01T00:00:00Z', '2026-13-45T99:99:99Z', '0000-00-00', 'yesterday', '1e400']),
    () => 'x'.repeat(Math.floor(random() * 5_000)),
    () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => String.fromCharCode(32 + Math.floor(random() * 0x2fff))).join(''),
  ])();
}

/** Any JSON value, nested up to `depth`. */
function fuzzValue(random: Random, known: readonly string[], depth: number): unknown {
  const leaf = (): unknown =>
    pick(random, [
      () => null,
      () => random() < 0.5,
      () => Math.floor(random() * 2_000) - 1_000,
      () => pick(random, [0, -0, 1e308, -1e308, 2 ** 53, 2 ** 64, 0.1, Number.MAX_SAFE_INTEGER + 2]),
      () => fuzzText(random, known),
    ])();
  if (depth <= 0 || random() < 0.5) return leaf();
  if (random() < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => fuzzValue(random, known, depth - 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [fuzzText(random, known).slice(0, 40), fuzzValue(random, known, depth - 1)]));
}

/** A request body: an object with the route's own fields (fuzzed values), any JSON, or not JSON at all. */
function fuzzBody(random: Random, fields: readonly string[], known: readonly string[]): unknown {
  return pick(random, [
    () => Object.fromEntries(fields.filter(() => random() < 0.6).map((field) => [field, fuzzValue(random, known, 2)])),
    () => ({ ...Object.fromEntries(fields.map((field) => [field, fuzzValue(random, known, 1)])), [fuzzText(random, known).slice(0, 20)]: 1 }),
    () => fuzzValue(random, known, 3),
    () => pick(random, ['{', '{"a":', '[1,2', 'null', '"text"', '{"filter": {"table": }}', '\u0000', '{"a":1}{"b":2}', '1'.repeat(400)]),
    () => ({ filter: fuzzValue(random, known, 2), limit: fuzzValue(random, known, 0), reason: fuzzValue(random, known, 0) }),
    () => ({ table: { schema: fuzzValue(random, known, 0), name: fuzzValue(random, known, 0) }, fromScratch: fuzzValue(random, known, 0) }),
  ])();
}

/**
 * Real: a dlq-admin process on PostgreSQL with dead letters, tables and a source in its buffer.
 * Every route the OpenAPI document lists gets seeded random requests — hostile path segments,
 * query strings, bodies of every JSON shape and some not JSON at all — and none may answer 5xx.
 * Replay a failure with PHILOTES_FUZZ_SEED.
 */
describe('every admin route under fuzzed input', () => {
  let buffer: TestDatabase;
  let admin: RunningAdmin;
  let known: string[];

  beforeAll(async () => {
    buffer = await createTestDatabase('philotes_fuzz');
    admin = await startAdmin(buffer.url, { PHILOTES_ADMIN_REPLAY_LIMIT: '50' });
    const ids = await seedDeadLetters(buffer.url, 'orders', 6);
    await query(buffer.url, "INSERT INTO cdc_checkpoints (source_id, slot_name, confirmed_lsn) VALUES ('shop', 'slot', '0/1') ON CONFLICT DO NOTHING");
    known = [...ids, 'shop', 'public', 'orders', 'pending', 'replaying', 'discarded', 'poison', '100', '1'];
  });

  afterAll(async () => {
    await admin?.process.stop();
    await buffer?.drop();
  });

  it(`answers every request below 500 (seed ${SEED})`, async () => {
    const doc = (await api<OpenApiDocument>(admin, 'GET', '/docs-json')).body;
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));
    // Every route of the API: dead letters (list, stats, one, replay, discard, in bulk) and pipelines.
    expect(routes.filter((r) => r.path.startsWith('/api/')).length).toBeGreaterThanOrEqual(14);
    const random = seededRandom(SEED);
    const failures: string[] = [];
    const tried = new Map<string, number>();
    const statuses = new Map<number, number>();
    for (const { path, method, operation } of routes) {
      const queryNames = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref;
      const fields = Object.keys((ref ? doc.components?.schemas?.[ref.split('/').pop()!]?.properties : undefined) ?? {});
      for (let i = 0; i < REQUESTS_PER_ROUTE; i++) {
        const segment = () => (random() < 0.8 ? encodeURIComponent(fuzzText(random, known)) : fuzzText(random, known).replace(/[/?#]/g, ''));
        const target = path.replace(/\{[^}]+\}/g, () => segment() || 'x');
        const names = [...queryNames.filter(() => random() < 0.5), ...(random() < 0.2 ? [fuzzText(random, known).slice(0, 10)] : [])];
        const search = names.map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(fuzzText(random, known))}`).join('&');
        const url = search ? `${target}?${search}` : target;
        const body = method === 'POST' && random() < 0.9 ? fuzzBody(random, fields, known) : undefined;
        const answer = await api(admin, method as 'GET' | 'POST', url, body === undefined ? {} : { body });
        tried.set(`${method} ${path}`, (tried.get(`${method} ${path}`) ?? 0) + 1);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) failures.push(`${method} ${url.slice(0, 200)} ${JSON.stringify(body)?.slice(0, 200)} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect([...tried.values()].every((n) => n === REQUESTS_PER_ROUTE)).toBe(true);
    // The input reached the handlers, not only the validation: some requests were served.
    const served = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
    expect({ served: served > 0, refused: (statuses.get(400) ?? 0) > 0, unknown: (statuses.get(404) ?? 0) > 0 }).toEqual({ served: true, refused: true, unknown: true });
    process.stdout.write(`admin fuzz (seed ${SEED}): ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`);
  });
});
