import { formatTransform, parseTransform } from '@philotes/iceberg';
import { column } from './mapping-fixtures';
import { PartitioningError } from './partitioning';
import { LayoutInput, planLayout } from './table-layout';

const ID = column('id', 'int8', { key: true, primaryKey: true });
const TS = column('ts', 'timestamptz', { key: true, primaryKey: true, rangePartition: 'month' });
const NOTE = column('note', 'text');
const input = (overrides: Partial<LayoutInput>): LayoutInput => ({
  table: 'public.t',
  columns: [ID, TS, NOTE],
  mode: 'upsert',
  lastColumnId: 0,
  asText: new Set(),
  unrepresentable: 'reject',
  ...overrides,
});
const spec = (layout: ReturnType<typeof planLayout>) => layout.partitioning.map((f) => `${formatTransform(f.transform)}(${f.sourceId})`);

describe('planPartitioning (through planLayout)', () => {
  it("follows the source's range partitioning when nothing is configured", () => {
    expect(spec(planLayout(input({})))).toEqual(['month(2)']);
    expect(spec(planLayout(input({ columns: [ID, { ...TS, rangePartition: undefined }, NOTE] })))).toEqual([]);
  });

  it('keeps an existing table’s spec without configuration: the hint shapes new tables only', () => {
    const created = planLayout(input({}));
    const current = { ...created.schema, 'schema-id': 0 };
    // Made unpartitioned before the source was partitioned (or by an earlier release): stays so.
    expect(spec(planLayout(input({ current, lastColumnId: 3, currentPartitioning: [] })))).toEqual([]);
    const byDay = [{ sourceId: 2, transform: parseTransform('day') }];
    expect(spec(planLayout(input({ current, lastColumnId: 3, currentPartitioning: byDay })))).toEqual(['day(2)']);
    // Configuration still evolves it.
    expect(spec(planLayout(input({ current, lastColumnId: 3, currentPartitioning: [], partitioning: [{ column: 'id', transform: 'bucket[8]' }] })))).toEqual(['bucket[8](1)']);
  });

  it('lets configuration win, an empty entry leaving the table unpartitioned', () => {
    const configured = [
      { column: 'ts', transform: 'day' },
      { column: 'id', transform: 'bucket[4]' },
    ];
    expect(spec(planLayout(input({ partitioning: configured })))).toEqual(['day(2)', 'bucket[4](1)']);
    expect(spec(planLayout(input({ partitioning: [] })))).toEqual([]);
  });

  it('partitions an append table on any column', () => {
    expect(spec(planLayout(input({ mode: 'append', partitioning: [{ column: 'note', transform: 'truncate[2]' }] })))).toEqual(['truncate[2](3)']);
  });

  it('refuses an unknown column, a transform the type does not take, and a non-key column of an upsert table', () => {
    const refused = (partitioning: LayoutInput['partitioning'], mode: LayoutInput['mode'] = 'upsert') => {
      try {
        planLayout(input({ mode, partitioning }));
      } catch (error) {
        expect(error).toBeInstanceOf(PartitioningError);
        expect((error as PartitioningError).directive.recovery).toBe('operator');
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused([{ column: 'nope', transform: 'identity' }])).toBe('table public.t: the partition column nope is not a column of the table');
    expect(refused([{ column: 'note', transform: 'month' }], 'append')).toContain('the partition transform month does not apply to column note of Iceberg type string');
    expect(refused([{ column: 'note', transform: 'identity' }])).toContain('could not be placed in the partition of the row it removes');
  });

  it('lets an upsert table carry void on any column: it partitions nothing', () => {
    expect(spec(planLayout(input({ partitioning: [{ column: 'note', transform: 'void' }] })))).toEqual(['void(3)']);
  });

  it('does not follow a hint an upsert table could not honour (the column is not in the key)', () => {
    expect(spec(planLayout(input({ columns: [ID, { ...TS, key: false, primaryKey: false }, NOTE] })))).toEqual([]);
  });
});
