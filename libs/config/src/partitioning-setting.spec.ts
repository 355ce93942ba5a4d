import { parsePartitioning, parsePartitioningSetting } from './partitioning-setting';

describe('PHILOTES_ICEBERG_PARTITIONING', () => {
  it('parses tables, transforms and bare columns', () => {
    expect(parsePartitioning('public.payment=month(payment_date);public.events=bucket(16,id),day(ts)')).toEqual([
      { schema: 'public', table: 'payment', fields: [{ column: 'payment_date', transform: 'month' }] },
      {
        schema: 'public',
        table: 'events',
        fields: [
          { column: 'id', transform: 'bucket[16]' },
          { column: 'ts', transform: 'day' },
        ],
      },
    ]);
    expect(parsePartitioning(' s.t = identity(a) , b , truncate( 4 , c ), year(d), hour(e), void(f) ; ')).toEqual([
      {
        schema: 's',
        table: 't',
        fields: ['identity', 'identity', 'truncate[4]', 'year', 'hour', 'void'].map((transform, i) => ({ column: 'abcdef'[i], transform })),
      },
    ]);
    expect(parsePartitioning('')).toEqual([]);
    expect(parsePartitioning('s.t=')).toEqual([{ schema: 's', table: 't', fields: [] }]);
  });

  it('takes quoted names holding dots, commas, =, ;, parentheses, quotes and unicode', () => {
    expect(parsePartitioning('"a.b;c"."t=1,2"=bucket(4,"we""ird (col)"),"month";"ü"."日本"="día"')).toEqual([
      { schema: 'a.b;c', table: 't=1,2', fields: [{ column: 'we"ird (col)', transform: 'bucket[4]' }, { column: 'month', transform: 'identity' }] },
      { schema: 'ü', table: '日本', fields: [{ column: 'día', transform: 'identity' }] },
    ]);
  });

  it.each([
    ['public=month(ts)', "expected '.'"],
    ['public.t month(ts)', "expected '='"],
    ['public.t=week(ts)', 'unknown transform week'],
    ['public.t=bucket(ts)', 'bucket needs a whole number first'],
    ['public.t=bucket(0,id)', "bucket's number must be between 1 and 2147483647"],
    ['public.t=truncate(99999999999,id)', "truncate's number must be between 1 and 2147483647"],
    ['public.t=month(ts', "expected ')'"],
    ['public.t=month(ts) day(ts)', "expected ',' or ';'"],
    ['public.t="unterminated', 'unterminated quoted column'],
    ['public.t=""', 'empty quoted column'],
    ['public.t=a;public.t=b', 'table public.t is listed twice'],
    ['public.t=a,', 'expected a column'],
  ])('refuses %s: %s', (text, rule) => {
    const parsed = parsePartitioningSetting(text);
    const problem = 'rule' in parsed ? parsed.rule : undefined;
    expect(problem).toContain(rule);
    expect(problem).toContain('write schema.table=transform(column)');
  });
});
