import { BackfillState } from '@philotes/buffer';
import { copiesDue, CopyWatch, PublishedRelation } from './copy-plan';

const snapshot = { lsn: 1n, xmin: 1n, xmax: 1n, xip: [] };
const state = (table: string, overrides: Partial<BackfillState> = {}): BackfillState => ({
  tableId: 1,
  schema: 'public',
  table,
  status: 'done',
  snapshot,
  rowsCopied: 0,
  relationOid: 100,
  reason: 'initial',
  discardHistory: false,
  ...overrides,
});
const published = (table: string, relationOid = 100, schema = 'public'): PublishedRelation => ({ schema, table, relationOid });

describe('copiesDue', () => {
  it.each<[string, BackfillState | undefined, PublishedRelation, string | undefined]>([
    ['never copied: it joined the publication', undefined, published('t'), 'joined'],
    ['copied, same relation', state('t'), published('t'), undefined],
    ['copied, by a release that did not record the relation', state('t', { relationOid: undefined }), published('t', 999), undefined],
    ['copied, another relation: dropped and created again', state('t'), published('t', 101), 'recreated'],
    ['interrupted initial copy', state('t', { status: 'copying' }), published('t'), 'initial'],
    ['interrupted copy of a joined table', state('t', { status: 'copying', reason: 'joined' }), published('t'), 'joined'],
    ['asked for by an operator', state('t', { status: 'requested', snapshot: undefined, reason: 'resync' }), published('t'), 'resync'],
    ['failed, waiting for a resync', state('t', { status: 'failed' }), published('t'), undefined],
    ['failed, then dropped and created again', state('t', { status: 'failed' }), published('t', 101), 'recreated'],
    ['back in the publication after it left', state('t', { status: 'requested', reason: 'joined' }), published('t'), 'joined'],
    ['seen joining by the stream', state('t', { status: 'requested', reason: 'joined', snapshot: undefined, relationOid: undefined }), published('t'), 'joined'],
    ['seen anew by the stream', state('t', { status: 'requested', reason: 'recreated' }), published('t', 101), 'recreated'],
    ['out of the publication and back, unseen: another membership row', state('t', { membershipOid: 5 }), { ...published('t'), membershipOid: 6 }, 'joined'],
    ['the same membership row', state('t', { membershipOid: 5 }), { ...published('t'), membershipOid: 5 }, undefined],
    ['a copy that recorded no membership (FOR ALL TABLES, an earlier release)', state('t'), { ...published('t'), membershipOid: 6 }, undefined],
    ['on a slot someone else made', state('t', { status: 'requested', reason: 'initial', snapshot: undefined, relationOid: undefined }), published('t'), 'initial'],
  ])('%s', (_case, current, table, reason) => {
    expect(copiesDue([table], current ? [current] : []).map((t) => t.reason)).toEqual(reason ? [reason] : []);
  });

  it('tells tables apart by schema and name, whatever they hold', () => {
    const due = copiesDue([published('a.b', 100, 'x'), published('b', 100, 'x.a')], [state('b', { schema: 'x.a' })]);
    expect(due).toEqual([{ schema: 'x', table: 'a.b', reason: 'joined' }]);
  });

  it('leaves tables no longer published alone', () => {
    expect(copiesDue([], [state('gone', { status: 'requested' })])).toEqual([]);
  });
});

describe('CopyWatch', () => {
  it('flags a relation no copy covers once, with why, and never a copied or already requested one', () => {
    const watch = new CopyWatch([
      state('t'),
      state('legacy', { relationOid: undefined }),
      state('asked', { status: 'requested' }),
      state('joining', { status: 'requested', reason: 'joined', relationOid: undefined }),
    ]);
    expect(watch.uncovered(published('t'))).toBeUndefined();
    expect(watch.uncovered(published('legacy', 5))).toBeUndefined();
    expect(watch.uncovered(published('new', 7))).toBe('joined');
    expect(watch.uncovered(published('new', 7))).toBeUndefined();
    expect(watch.uncovered(published('t', 8))).toBe('recreated');
    expect(watch.uncovered(published('asked'))).toBeUndefined();
    expect(watch.uncovered(published('asked', 9))).toBe('recreated');
    expect(watch.uncovered(published('joining', 10))).toBeUndefined();
  });

  it('flags a relation again once reconsidered: a partition described beside its root, detached later', () => {
    const watch = new CopyWatch([state('root')]);
    expect(watch.uncovered(published('root_2022_01', 11))).toBe('joined');
    watch.reconsider(11);
    expect(watch.uncovered(published('root_2022_01', 11))).toBe('joined');
    expect(watch.uncovered(published('root_2022_01', 11))).toBeUndefined();
  });
});
