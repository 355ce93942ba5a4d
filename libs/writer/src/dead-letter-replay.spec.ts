import { Registry } from 'prom-client';
import { BEFORE_FIRST, DecodedEvent, MemoryTableBuffer, OpenDeadLetter, Position, TableRef } from '@philotes/buffer';
import { ColumnSchema } from '@philotes/events';
import { AssembledBatch, change, column, planLayout, PoisonValueError, TableLayout } from '@philotes/table-mapping';
import { countOutcomes, DeadLetterReplay, ReplayedLetter, ReplaySettlement, ReplayTarget, settleReplay } from './dead-letter-replay';
import { writerSettingsOf } from './writer-settings';
import { bufferChanges, writerConfig } from './writer-fixtures';
import { WriterMetrics } from './writer-metrics';

const columns = [column('id', 'int4', { key: true }), column('v', 'text')];
const at = (lsn: bigint): Pick<DecodedEvent, 'position'> => ({ position: { lsn, seq: 0 } });
const upsert = (id: number, lsn: bigint): DecodedEvent => ({ ...change('U', columns, { after: [id, 'x'] }), ...at(lsn) });
const keyOf = (c: DecodedEvent) => String(c.after?.[0]);
const openLetter = (id: string, key: string, lsn: bigint): OpenDeadLetter => ({ id, status: 'pending', key, position: { lsn, seq: 0 } });

describe('settling a dead-letter replay', () => {
  it('replays what folded, fails what still does not map or fold, and marks what a later change of the replay outdated', () => {
    const ok = upsert(1, 10n);
    const poisoned = upsert(2, 11n);
    const outdated = upsert(3, 12n);
    const refused = new PoisonValueError('v', 'not representable', 'fix it');
    const letters: ReplayedLetter[] = [{ id: 'a', change: ok }, { id: 'b', change: poisoned }, { id: 'c', change: outdated }, { id: 'd', refused }];
    const batch = {
      poison: [
        { change: poisoned, error: new PoisonValueError('v', 'still bad', 'fix it') },
        { change: outdated, error: new PoisonValueError('v', 'bad', 'fix it'), superseded: true },
      ],
      touchedKeys: new Set(['1']),
    };
    const { outcomes } = settleReplay(letters, batch, keyOf, []);
    expect(outcomes).toEqual([
      { id: 'a', outcome: 'replayed' },
      { id: 'b', outcome: 'failed', kind: 'poison', message: 'column v: still bad' },
      { id: 'c', outcome: 'superseded' },
      { id: 'd', outcome: 'failed', kind: 'poison', message: 'column v: not representable' },
    ]);
    expect(countOutcomes(outcomes)).toEqual({ replayed: 1, superseded: 1, failed: 2 });
  });

  it('supersedes only older open letters of keys the replay wrote, never the letters being replayed', () => {
    const written = upsert(1, 20n);
    const notWritten = upsert(2, 21n);
    const open = [openLetter('a', '1', 20n), openLetter('older', '1', 5n), openLetter('newer', '1', 30n), openLetter('other-key', '2', 5n), openLetter('unkeyed', '9', 5n)];
    const { supersede } = settleReplay([{ id: 'a', change: written }, { id: 'b', change: notWritten }], { poison: [], touchedKeys: new Set(['1']) }, keyOf, open);
    expect(supersede).toEqual(['older']);
  });

  it('does not count a key as written by a letter that failed again', () => {
    const failed = upsert(1, 20n);
    const { supersede } = settleReplay(
      [{ id: 'a', change: failed }],
      { poison: [{ change: failed, error: new PoisonValueError('v', 'bad', 'fix') }], touchedKeys: new Set(['1']) },
      keyOf,
      [openLetter('older', '1', 5n)],
    );
    expect(supersede).toEqual([]);
  });
});

/**
 * DeadLetterReplay over the memory buffer, with its table writer (the target) recorded: real are
 * the replay's reads, the schema move (ontoSchema), the fold and the settling; the target's table
 * and commit are stand-ins that record what the replay asked of them.
 */
describe('DeadLetterReplay', () => {
  const ref: TableRef = { tableId: 1, sourceId: 'src', schema: 'public', table: 'items' };
  const v1 = [column('id', 'int4', { key: true, primaryKey: true }), column('name', 'text')];
  const settings = writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [] }));

  class Target implements ReplayTarget {
    readonly qualified = 'public.items';
    readonly commits: Array<{ readonly batch: AssembledBatch; readonly open: readonly OpenDeadLetter[]; readonly settlement: ReplaySettlement }> = [];
    readonly layouts: Array<readonly ColumnSchema[]> = [];
    tableExists = true;
    constructor(private readonly at: Position | undefined) {}
    position(): Position | undefined {
      return this.at;
    }
    async loadTable(): Promise<boolean> {
      return this.tableExists;
    }
    layoutFor(first: Pick<DecodedEvent, 'columns'>): TableLayout {
      this.layouts.push(first.columns);
      return planLayout({ table: this.qualified, columns: first.columns, mode: 'upsert', lastColumnId: 0, asText: new Set(), unrepresentable: 'reject' });
    }
    async resolveToast(batch: AssembledBatch): Promise<AssembledBatch> {
      return batch;
    }
    async commit(_layout: TableLayout, batch: AssembledBatch, open: readonly OpenDeadLetter[], settlement: ReplaySettlement): Promise<void> {
      this.commits.push({ batch, open, settlement });
    }
  }

  /** Letters of the rows given (captured under `v1`), asked to be replayed; then the stream goes on under `now`. */
  async function world(rows: Array<[number, string]>, now: readonly ColumnSchema[], later?: readonly ColumnSchema[]) {
    const buffer = new MemoryTableBuffer();
    await bufferChanges(buffer.events, ref, v1, rows.map(([id, name]) => ({ op: 'I', after: [id, name] })));
    const captured = await buffer.after(ref.tableId, BEFORE_FIRST, rows.length);
    await buffer.commit((tx) => tx.addDeadLetters(ref.tableId, captured.map((c) => ({ change: c, kind: 'poison', message: 'refused', attempts: 3 }))));
    buffer.requestReplay(buffer.deadLetters.map((letter) => letter.id));
    // The table applied them (as dead letters); a change under `now` waits after them.
    const position = captured.at(-1)!.position;
    await bufferChanges(buffer.events, ref, now, [{ op: 'I', after: now.map((c, i) => (i === 0 ? 99 : c.kind === 'text' ? 'later' : 1)) }]);
    // And, when given, one more under a newer version still: the replay must not jump to it.
    if (later) await bufferChanges(buffer.events, ref, later, [{ op: 'I', after: later.map((c, i) => (i === 0 ? 100 : c.kind === 'text' ? 'latest' : 2)) }]);
    const metrics = new WriterMetrics(new Registry());
    const target = new Target(position);
    const replay = new DeadLetterReplay(ref, { buffer, metrics, log: { info: () => undefined }, target });
    return { buffer, target, replay, metrics, open: await buffer.openDeadLetters(ref.tableId) };
  }

  it("folds the letters onto the schema version the stream applies next and hands them to the writer's commit as replayed", async () => {
    const v2 = [...v1, column('note', 'text')];
    // v3 is the latest version, but the stream applies v2 next: the replay folds onto v2.
    const v3 = [...v2, column('score', 'int4')];
    const { target, replay, metrics, open } = await world([[1, 'a'], [2, 'b']], v2, v3);

    expect(await replay.run(open, settings)).toBe('more');

    expect(target.layouts).toEqual([v2]);
    expect(target.commits).toHaveLength(1);
    const [{ batch, settlement }] = target.commits;
    expect(batch.rows.map((row) => row.slice(0, 3))).toEqual([
      [1, 'a', null],
      [2, 'b', null],
    ]);
    expect(settlement.outcomes).toEqual(open.map((letter) => ({ id: letter.id, outcome: 'replayed' })));
    expect((await metrics.replays.get()).values.find((v) => v.labels.outcome === 'replayed')?.value).toBe(2);
  });

  it('fails a letter whose value has no exact conversion to the current schema, and replays the others', async () => {
    // name: text then, int4 now (no exact conversion).
    const v2 = [v1[0], column('name', 'int4')];
    const { target, replay, open } = await world([[1, 'a']], v2);

    await replay.run(open, settings);

    expect(target.commits[0].settlement.outcomes).toEqual([{ id: open[0].id, outcome: 'failed', kind: 'poison', message: expect.stringMatching(/no exact conversion/) }]);
    expect(target.commits[0].batch.rows).toEqual([]);
  });

  it('commits nothing when no letter waits, or when the table cannot be made yet', async () => {
    const { buffer, target, replay, open } = await world([[1, 'a']], v1);
    target.tableExists = false;
    expect(await replay.run(open, settings)).toBe('idle');

    await buffer.commit((tx) => tx.settleDeadLetters(open.map((letter) => ({ id: letter.id, outcome: 'replayed' }))));
    expect(await replay.run([], settings)).toBe('more');
    expect(target.commits).toEqual([]);
  });
});
