import { PgNumeric } from '@philotes/events';
import { IcebergSchema } from '@philotes/iceberg';
import { column, numericModifier } from './mapping-fixtures';
import { IncompatibleSchemaError, LayoutInput, modeFor, planLayout } from './table-layout';

const ID = column('id', 'int8', { key: true, primaryKey: true });
const base = (overrides: Partial<LayoutInput>): LayoutInput => ({
  table: 'public.t',
  columns: [ID, column('name', 'text')],
  mode: 'upsert',
  lastColumnId: 0,
  asText: new Set(),
  unrepresentable: 'reject',
  ...overrides,
});
const asCurrent = (schema: Omit<IcebergSchema, 'schema-id'>): IcebergSchema => ({ ...schema, 'schema-id': 0 });

describe('planLayout', () => {
  it('creates a schema with ids from 1, the primary key required and as identifier fields', () => {
    const layout = planLayout(base({}));
    expect(layout.schema).toEqual({
      type: 'struct',
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long' },
        { id: 2, name: 'name', required: false, type: 'string' },
      ],
    });
    expect(layout.changed).toBe(true);
    expect(layout.keyFields.map((f) => f.id)).toEqual([1]);
  });

  it('adds the change-log columns in append mode, without identifier fields', () => {
    const layout = planLayout(base({ mode: 'append' }));
    expect(layout.schema.fields.map((f) => `${f.id}:${f.name}`)).toEqual(['1:id', '2:name', '3:_cdc_op', '4:_cdc_lsn', '5:_cdc_commit_ts', '6:_cdc_seq']);
    expect(layout.schema['identifier-field-ids']).toBeUndefined();
  });

  it('refuses, in append mode, a source column named like a change-log column, which the log would overwrite', () => {
    for (const name of ['_cdc_op', '_cdc_lsn', '_cdc_commit_ts', '_cdc_seq']) {
      const plan = () => planLayout(base({ mode: 'append', columns: [ID, column(name, 'text')] }));
      expect(plan).toThrow(IncompatibleSchemaError);
      expect(plan).toThrow(`table public.t: its column ${name} has the name of a change-log column append mode adds`);
    }
    // Upsert tables have no change-log columns: the name is the user's.
    expect(planLayout(base({ columns: [ID, column('_cdc_op', 'text')] })).schema.fields.map((f) => f.name)).toEqual(['id', '_cdc_op']);
  });

  it('gives an added column a new id and keeps the others', () => {
    const first = planLayout(base({}));
    const next = planLayout(base({ columns: [ID, column('name', 'text'), column('email', 'text')], current: asCurrent(first.schema), lastColumnId: 2 }));
    expect(next.changed).toBe(true);
    expect(next.schema.fields.map((f) => `${f.id}:${f.name}`)).toEqual(['1:id', '2:name', '3:email']);
  });

  it('is unchanged for the same columns', () => {
    const first = planLayout(base({}));
    expect(planLayout(base({ current: asCurrent(first.schema), lastColumnId: 2 })).changed).toBe(false);
  });

  it('promotes int to long and widens a decimal in place', () => {
    const first = planLayout(base({ columns: [ID, column('n', 'int4'), column('d', 'numeric', { typeModifier: numericModifier(10, 2) })] }));
    const next = planLayout(
      base({ columns: [ID, column('n', 'int8'), column('d', 'numeric', { typeModifier: numericModifier(14, 2) })], current: asCurrent(first.schema), lastColumnId: 3 }),
    );
    expect(next.schema.fields).toEqual([
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'n', required: false, type: 'long' },
      { id: 3, name: 'd', required: false, type: 'decimal(14, 2)' },
    ]);
  });

  it('keeps a decimal field that holds every value of the column exactly (a domain numeric(12,2) once read as unconstrained)', () => {
    const first = planLayout(base({ columns: [ID, column('d', 'numeric')] }));
    expect(first.schema.fields[1].type).toBe('decimal(38, 9)');
    const next = planLayout(base({ columns: [ID, column('d', 'numeric', { typeModifier: numericModifier(12, 2) })], current: asCurrent(first.schema), lastColumnId: 2 }));
    expect(next.changed).toBe(false);
    expect(next.schema.fields).toEqual(first.schema.fields);
    expect(next.placements[1].convert(new PgNumeric('12.50'))).toBe(12_500_000_000n);
    // More fractional digits than the field has: moved aside, never rounded.
    const finer = planLayout(base({ columns: [ID, column('d', 'numeric', { typeModifier: numericModifier(12, 10) })], current: asCurrent(first.schema), lastColumnId: 2 }));
    expect(finer.schema.fields.map((f) => f.name)).toEqual(['id', 'd__before_1', 'd']);
  });

  it('moves an incompatible column aside under a new name and starts a new field', () => {
    const first = planLayout(base({ columns: [ID, column('v', 'text')] }));
    const next = planLayout(base({ columns: [ID, column('v', 'int4')], current: asCurrent(first.schema), lastColumnId: 2 }));
    expect(next.schema.fields).toEqual([
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'v__before_1', required: false, type: 'string' },
      { id: 3, name: 'v', required: false, type: 'int' },
    ]);
    expect(next.placements[1].field.id).toBe(3);
  });

  it('keeps a dropped column as a field', () => {
    const first = planLayout(base({}));
    const next = planLayout(base({ columns: [ID], current: asCurrent(first.schema), lastColumnId: 2 }));
    expect(next.schema.fields.map((f) => f.name)).toEqual(['id', 'name']);
  });

  it('refuses a changed primary key', () => {
    const first = planLayout(base({}));
    const columns = [column('id', 'int8', { key: false }), column('name', 'text', { key: true, primaryKey: true })];
    expect(() => planLayout(base({ columns, current: asCurrent(first.schema), lastColumnId: 2 }))).toThrow(IncompatibleSchemaError);
  });

  it('identifies REPLICA IDENTITY FULL rows by every comparable column', () => {
    const columns = [column('a', 'text', { key: true }), column('f', 'float8', { key: true }), column('b', 'int4', { key: true })];
    const layout = planLayout(base({ columns }));
    expect(layout.keyPositions).toEqual([0, 2]);
    expect(layout.schema['identifier-field-ids']).toBeUndefined();
  });
});

describe('modeFor', () => {
  const keyed = [ID, column('name', 'text')];
  const unkeyed = [column('name', 'text')];
  it('chooses upsert with a key and append without, unless told', () => {
    expect(modeFor('public.t', keyed, 'auto', new Map())).toBe('upsert');
    expect(modeFor('public.t', unkeyed, 'auto', new Map())).toBe('append');
    expect(modeFor('public.t', keyed, 'append', new Map())).toBe('append');
    expect(modeFor('public.t', keyed, 'upsert', new Map([['public.t', 'append']]))).toBe('append');
  });

  it('refuses upsert for a table whose rows cannot be identified', () => {
    expect(() => modeFor('public.t', unkeyed, 'upsert', new Map())).toThrow(/primary key or REPLICA IDENTITY FULL/);
  });
});
