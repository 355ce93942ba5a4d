import { PgNumeric, UNCHANGED_TOAST } from '@philotes/events';
import { BatchAssembler, resolveToast, rowKey, UNRESOLVED } from './batch-assembler';
import { change, column } from './mapping-fixtures';
import { planLayout, TableMode } from './table-layout';
import { PoisonValueError } from './type-mapping';

const COLUMNS = [column('id', 'int4', { key: true, primaryKey: true }), column('doc', 'text'), column('n', 'numeric')];
const layoutFor = (mode: TableMode) => planLayout({ table: 'public.t', columns: COLUMNS, mode, lastColumnId: 0, asText: new Set(), unrepresentable: 'reject' });
const insert = (id: number, doc: unknown, n = '1') => change('I', COLUMNS, { after: [id, doc as string, new PgNumeric(n)] });
const update = (id: number, doc: unknown, options: { from?: number; before?: unknown[]; n?: string } = {}) =>
  change('U', COLUMNS, {
    after: [id, doc as string, new PgNumeric(options.n ?? '1')],
    ...(options.before ? { before: options.before as never } : options.from !== undefined ? { before: [options.from, null, null], keyOnly: true } : {}),
  });
const remove = (id: number) => change('D', COLUMNS, { before: [id, null, null], keyOnly: true });

function assemble(mode: TableMode, changes: ReturnType<typeof insert>[], skipPoison = false) {
  const assembler = new BatchAssembler(layoutFor(mode));
  for (const c of changes) assembler.add(c, skipPoison);
  return assembler.result();
}

describe('BatchAssembler, upsert', () => {
  it('folds several changes of a key into its last state', () => {
    const batch = assemble('upsert', [insert(1, 'a'), update(1, 'b'), update(1, 'c'), insert(2, 'x'), remove(2)]);
    expect(batch.rows).toEqual([[1, 'c', 1_000_000_000n]]);
    // Key 1 was updated and key 2 deleted within the batch: both get deletes for older snapshots.
    expect(batch.deletes).toEqual([[1], [2]]);
    expect(batch.count).toBe(5);
  });

  it('writes no deletes for keys only inserted', () => {
    const batch = assemble('upsert', [insert(1, 'a'), insert(2, 'b')]);
    expect(batch.rows).toHaveLength(2);
    expect(batch.deletes).toEqual([]);
  });

  it('deletes the old key when an update changes the key', () => {
    const batch = assemble('upsert', [update(5, 'moved', { from: 4 })]);
    expect(batch.rows).toEqual([[5, 'moved', 1_000_000_000n]]);
    expect(batch.deletes).toEqual(expect.arrayContaining([[4], [5]]));
  });

  it('keeps an unchanged TOAST value from the key’s earlier row in the batch', () => {
    const batch = assemble('upsert', [insert(1, 'long document'), update(1, UNCHANGED_TOAST, { n: '2' })]);
    expect(batch.rows).toEqual([[1, 'long document', 2_000_000_000n]]);
    expect(batch.pendingToast).toEqual([]);
  });

  it('takes an unchanged TOAST value from a full before image', () => {
    const batch = assemble('upsert', [update(1, UNCHANGED_TOAST, { before: [1, 'from before', new PgNumeric('1')] })]);
    expect(batch.rows[0][1]).toBe('from before');
  });

  it('keys a REPLICA IDENTITY FULL row whose TOASTed column an update left unchanged by the full old row', () => {
    // No primary key: every column identifies the row, the TOASTed text too (found by the generator, seed 7072).
    const full = [column('id', 'int4', { key: true }), column('doc', 'text', { key: true })];
    const layout = planLayout({ table: 'public.f', columns: full, mode: 'upsert', lastColumnId: 0, asText: new Set(), unrepresentable: 'reject' });
    const assembler = new BatchAssembler(layout);
    assembler.add(change('U', full, { after: [2, UNCHANGED_TOAST], before: [1, 'a long document'] }), false);
    const batch = assembler.result();
    expect(batch.rows).toEqual([[2, 'a long document']]);
    expect(batch.deletes).toEqual([[1, 'a long document'], [2, 'a long document']]);
  });

  it('sends a change whose key is an unchanged TOAST value, with no full old row, to the dead letters', () => {
    const toastKey = [column('doc', 'text', { key: true, primaryKey: true }), column('n', 'int4')];
    const layout = planLayout({ table: 'public.k', columns: toastKey, mode: 'upsert', lastColumnId: 0, asText: new Set(), unrepresentable: 'reject' });
    expect(() => new BatchAssembler(layout).add(change('U', toastKey, { after: [UNCHANGED_TOAST, 5] }), false)).toThrow(PoisonValueError);
    const assembler = new BatchAssembler(layout);
    assembler.add(change('U', toastKey, { after: [UNCHANGED_TOAST, 5] }), true);
    expect(assembler.result().poison.map((p) => p.error.message)).toEqual(['column doc: a key column is an unchanged TOAST value and no full old row came with the change']);
  });

  it('asks for a lookup when the batch cannot tell, and resolves it from the table', () => {
    const batch = assemble('upsert', [update(1, UNCHANGED_TOAST, { n: '3' })]);
    expect(batch.rows[0][1]).toBe(UNRESOLVED);
    expect(batch.pendingToast).toHaveLength(1);
    const key = rowKey([1], [0]);
    const resolved = resolveToast(batch, new Map([[key, [1, 'stored', 1n]]]));
    expect(resolved.rows).toEqual([[1, 'stored', 3_000_000_000n]]);
  });

  it('turns a change whose TOAST value cannot be found into a dead letter, keeping the rest', () => {
    const batch = assemble('upsert', [insert(2, 'fine'), update(1, UNCHANGED_TOAST)]);
    const resolved = resolveToast(batch, new Map());
    expect(resolved.rows).toEqual([[2, 'fine', 1_000_000_000n]]);
    expect(resolved.poison).toHaveLength(1);
    expect(resolved.poison[0].error.message).toMatch(/TOASTed value unchanged/);
  });

  it('throws on a poison value until told to skip it, then keeps it apart', () => {
    const poison = insert(3, 'bad', 'NaN');
    expect(() => assemble('upsert', [insert(1, 'a'), poison])).toThrow(PoisonValueError);
    const last = insert(2, 'b');
    const batch = assemble('upsert', [insert(1, 'a'), poison, last], true);
    expect(batch.rows.map((r) => r[0])).toEqual([1, 2]);
    expect(batch.poison.map((p) => p.change)).toEqual([poison]);
    // The position moves past the poison event: it is in the dead letters, not lost or repeated.
    expect(batch.last).toEqual(last.position);
  });

  it('records the key of a poison change, and marks it superseded once a later change of the key is written', () => {
    const poison = update(3, 'bad', { n: 'NaN' });
    const batch = assemble('upsert', [poison, insert(4, 'x', 'NaN'), update(3, 'fixed'), insert(5, 'y')], true);
    const [three, four] = batch.poison;
    expect(three.key).toBe(rowKey([3], [0]));
    expect(three.superseded).toBe(true);
    // Key 4 saw no later change: replaying it stays possible.
    expect(four.key).toBe(rowKey([4], [0]));
    expect(four.superseded).toBeFalsy();
    expect([...batch.touchedKeys.keys()].sort()).toEqual([rowKey([3], [0]), rowKey([5], [0])].sort());
  });

  it('does not count a later poison change of the key as superseding', () => {
    const batch = assemble('upsert', [insert(3, 'bad', 'NaN'), update(3, 'still bad', { n: 'NaN' })], true);
    expect(batch.poison.map((p) => p.superseded ?? false)).toEqual([false, false]);
    expect([...batch.touchedKeys.keys()]).toEqual([]);
  });

  it('supersedes every earlier poison change at a TRUNCATE', () => {
    const batch = assemble('upsert', [insert(3, 'bad', 'NaN'), change('T', COLUMNS, {}), insert(4, 'bad', 'NaN')], true);
    expect(batch.poison.map((p) => p.superseded ?? false)).toEqual([true, false]);
  });

  it('un-supersedes when the later change of the key could not be written after all (TOAST not found)', () => {
    const batch = assemble('upsert', [insert(1, 'doc', 'NaN'), update(1, UNCHANGED_TOAST, { n: '2' })], true);
    expect(batch.poison[0].superseded).toBe(true);
    const resolved = resolveToast(batch, new Map());
    expect(resolved.poison.map((p) => [p.key, p.superseded ?? false])).toEqual([
      [rowKey([1], [0]), false],
      [rowKey([1], [0]), false],
    ]);
    expect([...resolved.touchedKeys.keys()]).toEqual([]);
  });

  it('gives every key of a replay a delete, inserts included (the table may hold the key by now)', () => {
    const assembler = new BatchAssembler(layoutFor('upsert'), { replay: true });
    assembler.add(insert(1, 'a'), true);
    expect(assembler.result().deletes).toEqual([[1]]);
  });

  it('keys an int and a bigint of the same value alike (a key column promoted to bigint)', () => {
    expect(rowKey([5], [0])).toBe(rowKey([5n], [0]));
  });

  it('drops everything before a TRUNCATE and marks the batch truncated', () => {
    const batch = assemble('upsert', [insert(1, 'a'), change('T', COLUMNS, {}), insert(2, 'b')]);
    expect(batch.truncated).toBe(true);
    expect(batch.rows.map((r) => r[0])).toEqual([2]);
    expect(batch.deletes).toEqual([]);
  });
});

describe('BatchAssembler, append', () => {
  it('writes every change as a row with its operation, LSN, commit time and position', () => {
    const changes = [insert(1, 'a'), update(1, 'b'), remove(1)];
    const batch = assemble('append', changes);
    const names = batch.fields.map((f) => f.name);
    const op = names.indexOf('_cdc_op');
    const lsn = names.indexOf('_cdc_lsn');
    const seq = names.indexOf('_cdc_seq');
    const ts = names.indexOf('_cdc_commit_ts');
    expect(batch.rows.map((r) => r[op])).toEqual(['I', 'U', 'D']);
    expect(batch.rows.map((r) => r[lsn])).toEqual(changes.map((c) => c.position.lsn));
    expect(batch.rows.map((r) => r[seq])).toEqual(changes.map((c) => BigInt(c.position.seq)));
    // PostgreSQL-epoch micros become Unix micros.
    expect(batch.rows[0][ts]).toBe(changes[0].commitTime + 946_684_800_000_000n);
    expect(batch.deletes).toEqual([]);
    expect(batch.last).toEqual(changes[2].position);
  });

  it('logs a TRUNCATE as a row and keeps the history before it', () => {
    const batch = assemble('append', [insert(1, 'a'), change('T', COLUMNS, {})]);
    const op = batch.fields.findIndex((f) => f.name === '_cdc_op');
    expect(batch.rows.map((r) => r[op])).toEqual(['I', 'T']);
    expect(batch.truncated).toBe(false);
  });

  it('fills unchanged TOAST values from the key’s previous row', () => {
    const batch = assemble('append', [insert(1, 'doc'), update(1, UNCHANGED_TOAST)]);
    expect(batch.rows[1][1]).toBe('doc');
  });
});
