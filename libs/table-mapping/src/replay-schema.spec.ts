import { ColumnSchema, PgNumeric, UnchangedToast } from '@philotes/events';
import { DecodedEvent } from '@philotes/buffer';
import { ontoSchema } from './replay-schema';
import { PoisonValueError } from './type-mapping';

const column = (name: string, kind: ColumnSchema['kind'], typeName: string = kind, key = false): ColumnSchema => ({ name, typeOid: 0, typeModifier: -1, typeName, kind, key });
const change = (columns: ColumnSchema[], after: DecodedEvent['after'], before?: DecodedEvent['before']): DecodedEvent => ({
  position: { lsn: 1n, seq: 0 },
  op: before ? 'U' : 'I',
  xid: 1,
  commitTime: 0n,
  schemaVersion: 1,
  columns,
  after,
  ...(before ? { before } : {}),
  beforeIsKeyOnly: false,
  payload: Buffer.alloc(0),
});

describe('a dead letter onto the current schema', () => {
  const then = [column('id', 'int4', 'int4', true), column('amount', 'int4'), column('gone', 'text'), column('flag', 'bool')];
  const now = [column('id', 'int8', 'int8', true), column('amount', 'numeric'), column('flag', 'text'), column('added', 'text')];

  it('matches columns by name, widens exactly, NULLs what it lacks and leaves out what was dropped', () => {
    const moved = ontoSchema(change(then, [5, 12, 'old', true], [5, 11, 'old', false]), 2, now, 'public.t');
    expect(moved.schemaVersion).toBe(2);
    expect(moved.columns).toBe(now);
    expect(moved.after).toEqual([5n, new PgNumeric('12'), 'true', null]);
    expect(moved.before).toEqual([5n, new PgNumeric('11'), 'false', null]);
  });

  it('keeps an unchanged TOAST marker for the writer to resolve, and a letter of the current version as it is', () => {
    const toast = UnchangedToast.INSTANCE;
    const current = change(now, [1n, toast, null, null]);
    expect(ontoSchema({ ...current, schemaVersion: 2 }, 2, now, 'public.t')).toEqual({ ...current, schemaVersion: 2 });
    expect(ontoSchema(change([column('id', 'int4'), column('doc', 'text')], [1, toast]), 2, [column('id', 'int8'), column('doc', 'text')], 'public.t').after).toEqual([1n, toast]);
  });

  it('widens a real as PostgreSQL does (the single-precision value), and never prints a float as text', () => {
    expect(ontoSchema(change([column('x', 'float4')], [0.1]), 2, [column('x', 'float8')], 'public.t').after).toEqual([0.10000000149011612]);
    expect(() => ontoSchema(change([column('x', 'float8')], [1e-7]), 2, [column('x', 'text')], 'public.t')).toThrow(PoisonValueError);
  });

  it('refuses a change of type it cannot convert exactly, naming the column and both types', () => {
    const attempt = () => ontoSchema(change([column('id', 'int4'), column('at', 'text')], [1, 'soon']), 2, [column('id', 'int4'), column('at', 'timestamptz')], 'public.t');
    expect(attempt).toThrow(PoisonValueError);
    expect(attempt).toThrow('column public.t.at: was text when the change was captured and is timestamptz now: no exact conversion');
  });
});
