import { BackfillState, CopyReason } from '@philotes/buffer';
import { CopyTarget } from './initial-copy';
import { PublishedTable } from './source-catalog';

/** A published table as the source's catalog shows it now. */
export interface PublishedRelation extends PublishedTable {
  readonly relationOid: number;
}

const tableKey = (table: PublishedTable): string => JSON.stringify([table.schema, table.table]);

/**
 * The tables a reader must copy before it streams, decided on every start (so a crash while
 * planning, or a table that changed while no reader ran, is caught up):
 *
 * | the table's copy state                       | copied because |
 * | -------------------------------------------- | -------------- |
 * | none (never copied: joined the publication)  | joined         |
 * | copying (interrupted)                         | its reason     |
 * | requested (an operator's resync)              | resync         |
 * | requested (it left the publication, is back)  | joined         |
 * | done, of another relation (dropped, created)  | recreated      |
 * | done, of this relation (or of a release that did not record it) | — |
 * | failed (the reader may not read it, say)      | — (a resync asks again) |
 *
 * Tables no longer published are left as they are.
 */
export function copiesDue(published: readonly PublishedRelation[], states: readonly BackfillState[]): CopyTarget[] {
  const byName = new Map(states.map((state) => [tableKey(state), state]));
  return published.flatMap((table): CopyTarget[] => {
    const state = byName.get(tableKey(table));
    const reason = copyReason(table, state);
    if (!reason) return [];
    return [{ schema: table.schema, table: table.table, reason, ...(state?.discardHistory ? { discardHistory: true } : {}) }];
  });
}

function copyReason(table: PublishedRelation, state: BackfillState | undefined): CopyReason | undefined {
  if (!state) return 'joined';
  if (state.status === 'copying') return state.reason;
  // Before 'failed': a failed table created again is a new table, and CopyWatch sees it as one.
  if (state.relationOid !== undefined && state.relationOid !== table.relationOid) return 'recreated';
  if (state.status === 'failed') return undefined; // waits for an operator's resync
  if (state.status === 'requested') return state.reason === 'joined' ? 'joined' : 'resync';
  return undefined;
}

/**
 * While streaming: whether a relation the stream describes needs a copy first (it joined the
 * publication, or is a new relation under a copied name). Checked once per relation and session.
 */
export class CopyWatch {
  private readonly copied: Map<string, number | undefined>;
  private readonly seen = new Set<number>();

  constructor(states: readonly BackfillState[]) {
    this.copied = new Map(states.filter((s) => s.status !== 'requested').map((s) => [tableKey(s), s.relationOid]));
  }

  /** True the first time a relation shows up that no copy covers. */
  uncovered(relation: PublishedRelation): boolean {
    if (this.seen.has(relation.relationOid)) return false;
    this.seen.add(relation.relationOid);
    const key = tableKey(relation);
    if (!this.copied.has(key)) return true;
    const oid = this.copied.get(key);
    return oid !== undefined && oid !== relation.relationOid;
  }
}
