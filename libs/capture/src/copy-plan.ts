import { BackfillState, CopyReason } from '@philotes/buffer';
import { CopyTarget } from './initial-copy';
import { PublishedTable } from './source-catalog';

/** A published table as the source's catalog shows it now. */
export interface PublishedRelation extends PublishedTable {
  readonly relationOid: number;
  /** The publication's membership row (absent for FOR ALL TABLES and schema publications). */
  readonly membershipOid?: number;
}

const tableKey = (table: PublishedTable): string => JSON.stringify([table.schema, table.table]);

/**
 * The tables a reader must copy, decided at every start (so a crash while planning, or a table
 * that changed while no reader ran, is caught up) and whenever a copy may be due while streaming:
 *
 * | the table's copy state                       | copied because |
 * | -------------------------------------------- | -------------- |
 * | none (never copied: joined the publication)  | joined         |
 * | copying (interrupted)                         | its reason     |
 * | requested (an operator's resync)              | resync         |
 * | requested (it left the publication, is back)  | joined         |
 * | requested (the stream saw it join, or anew)   | joined, recreated |
 * | requested (a slot someone else made)          | initial        |
 * | done, of another relation (dropped, created)  | recreated      |
 * | done, another membership row (it left the publication and came back unseen) | joined |
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
    return [{ schema: table.schema, table: table.table, reason }];
  });
}

function copyReason(table: PublishedRelation, state: BackfillState | undefined): CopyReason | undefined {
  if (!state) return 'joined';
  if (state.status === 'copying') return state.reason;
  // Before 'failed': a failed table created again is a new table, and CopyWatch sees it as one.
  if (state.relationOid !== undefined && state.relationOid !== table.relationOid) return 'recreated';
  if (state.status === 'failed') return undefined; // waits for an operator's resync
  // Out of the publication and back before a reader saw it leave: what changed meanwhile never streamed.
  if (state.status === 'done' && state.membershipOid !== undefined && table.membershipOid !== state.membershipOid) return 'joined';
  if (state.status === 'requested') return state.reason;
  return undefined;
}

/**
 * While streaming: whether a relation the stream describes needs a copy (it joined the
 * publication, or is a new relation under a copied name). Checked once per relation and session.
 */
export class CopyWatch {
  private readonly copied: Map<string, number | undefined>;
  private readonly seen = new Set<number>();

  constructor(states: readonly BackfillState[]) {
    // Requested ones too: a copy is asked for already, unless the relation is another one now.
    this.copied = new Map(states.map((s) => [tableKey(s), s.relationOid]));
  }

  /** Why, the first time a relation shows up that no copy covers; else undefined. */
  uncovered(relation: PublishedRelation): 'joined' | 'recreated' | undefined {
    if (this.seen.has(relation.relationOid)) return undefined;
    this.seen.add(relation.relationOid);
    const key = tableKey(relation);
    if (!this.copied.has(key)) return 'joined';
    const oid = this.copied.get(key);
    return oid !== undefined && oid !== relation.relationOid ? 'recreated' : undefined;
  }

  /**
   * A relation the stream described that the publication does not list as itself: a partition
   * (pgoutput describes it beside the root its changes stream under). Looked at again when it is
   * described next: detached, it is published as itself, and needs its copy.
   */
  reconsider(relationOid: number): void {
    this.seen.delete(relationOid);
  }
}
