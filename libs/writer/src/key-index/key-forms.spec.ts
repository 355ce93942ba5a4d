import { Registry } from 'prom-client';
import { MemoryBuffer, MemoryTableBuffer, TableRef } from '@philotes/buffer';
import { PgDate, PgInterval, PgNumeric, PgTime, PgTimestamp, PgTimeTz, ValueKind } from '@philotes/events';
import { NO_FAULTS } from '@philotes/faults';
import { currentSchema, currentSnapshot, IcebergTables, MemoryCatalog, MemoryObjectStore } from '@philotes/iceberg';
import { column, numericModifier } from '@philotes/table-mapping';
import { bufferChanges, writerConfig } from '../writer-fixtures';
import { TableWriter } from '../table-writer';
import { WriterMetrics } from '../writer-metrics';
import { writerSettingsOf } from '../writer-settings';
import { keyFieldsOf } from './keyed-deletes';
import { indexKey, keyText, rowIndexKey } from './key-index';
import { MemoryKeyIndex } from './memory-key-index';
import { compareKeyIndex, liveKeyPlacements } from './rebuild';

/**
 * The writer digests keys as the batch holds them (converted from the change); a rebuild digests
 * them as Parquet gives them back. For every key type they must meet, or a rebuilt index (a lost
 * one, a converted table) would miss keys and leave their old rows undeleted.
 */
const KEY_TYPES: ReadonlyArray<[ValueKind, (i: number) => unknown, Partial<Parameters<typeof column>[2]>?]> = [
  ['int2', (i) => i],
  ['int4', (i) => i * 1000],
  ['int8', (i) => BigInt(i) * 10_000_000_000n],
  ['text', (i) => `k'é\u0000${i}`],
  ['numeric', (i) => new PgNumeric(`${i}.25`), { typeModifier: numericModifier(12, 2) }],
  ['numeric', (i) => new PgNumeric(`${i}1234567890123.5`)],
  ['timestamptz', (i) => new PgTimestamp(1_700_000_000_000_000n + BigInt(i), true)],
  ['timestamp', (i) => new PgTimestamp(1_700_000_000_000_000n - BigInt(i), false)],
  ['date', (i) => new PgDate(19_000 + i)],
  ['uuid', (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`],
  ['bytea', (i) => new Uint8Array([0, 255, i])],
  ['bool', (i) => i % 2 === 0],
  // Not a float32 value until rounded: the file gives back the rounded one.
  ['float4', (i) => i + 0.1],
  ['float8', (i) => i + 0.1],
  ['time', (i) => new PgTime(3_600_000_000n + BigInt(i))],
  ['timetz', (i) => new PgTimeTz(3_600_000_000n + BigInt(i), 3600 * (i % 3))],
  ['interval', (i) => new PgInterval(i, 2, 3_000_000n)],
  ['enum', (i) => `mood-${i}`],
  ['json', (i) => `{"k": ${i}}`],
  ['jsonb', (i) => `{"k": ${i}}`],
];

describe('key index forms', () => {
  it.each(KEY_TYPES.map((t, n) => [`${t[0]}#${n}`, t] as const))('a %s key digests alike from the batch and from the files', async (_name, [kind, value, options]) => {
    const ref: TableRef = { tableId: 3, sourceId: 'src', schema: 'public', table: 'typed' };
    const columns = [column('k', kind, { key: true, primaryKey: true, ...(options ?? {}) }), column('v', 'text')];
    const events = new MemoryBuffer();
    const buffer = new MemoryTableBuffer(events);
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const keyIndex = new MemoryKeyIndex();
    const settings = writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [] }));
    const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
    const writer = new TableWriter(ref, { buffer, tables, settings: () => settings, metrics: new WriterMetrics(new Registry()), faults: NO_FAULTS, log, keyIndex });
    const keys = kind === 'bool' ? [0, 1] : [0, 1, 2, 3];
    await bufferChanges(events, ref, columns, keys.map((i) => ({ op: 'I', after: [value(i) as never, `v${i}`] })));
    while ((await writer.step()) === 'more');
    // An update of each: found by the index (a miss would leave the old row, and the table would hold the key twice).
    await bufferChanges(events, ref, columns, keys.map((i) => ({ op: 'U', after: [value(i) as never, `u${i}`] })));
    while ((await writer.step()) === 'more');
    const table = (await tables.load({ namespace: 'public', name: 'typed' }))!;
    const placements = liveKeyPlacements(tables, table.metadata, currentSnapshot(table.metadata)!['snapshot-id'], keyFieldsOf(currentSchema(table.metadata)));
    expect(await compareKeyIndex(keyIndex, ref.tableId, placements)).toEqual({ missing: 0, misplaced: 0, extra: 0 });
    expect(await keyIndex.size(ref.tableId)).toBe(keys.length);
  });
});

describe('integer keys', () => {
  const direct = (value: unknown) => rowIndexKey([value], [0]);
  const hex = (value: unknown) => Buffer.from(direct(value)).toString('hex');

  it('index a one-integer key as the integer, in the integers’ order, a number and a bigint alike', () => {
    const values = [-(2n ** 63n), -(2n ** 53n), -1_000_000_007n, -1n, 0n, 1n, 2n ** 31n, 2n ** 32n + 5n, 2n ** 53n - 1n, 2n ** 62n, 2n ** 63n - 1n];
    const keys = values.map(hex);
    expect([...keys].sort()).toEqual(keys);
    for (const v of values) {
      expect(hex(v).slice(0, 16)).toBe('0'.repeat(16));
      if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(hex(Number(v))).toBe(hex(v));
    }
    // A double past 2^53 is still an integer: the bigint of the same value.
    expect(hex(2 ** 60)).toBe(hex(2n ** 60n));
  });

  it('digest every other key: fractions, out-of-range bigints, text, several columns', () => {
    const digested = [1.5, 2n ** 63n, -(2n ** 63n) - 1n, '12', true, Number.NaN];
    for (const v of digested) expect(direct(v)).toEqual(indexKey(keyText([v], [0])));
    expect(rowIndexKey([1, 2], [0, 1])).toEqual(indexKey(keyText([1, 2], [0, 1])));
    expect(new Set([...digested.map(hex), hex(0), hex(1)]).size).toBe(digested.length + 2);
  });
});
