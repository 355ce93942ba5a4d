/** What a writer knows at a rebalance: the tables to write, and who holds which lease. */
export interface ShareInput {
  /** Tables that may be written now (not being copied, not paused). */
  readonly eligible: readonly number[];
  /** Table → backend pid of the writer connection holding its lease. */
  readonly holders: ReadonlyMap<number, number>;
  /** Writers running, this one included. */
  readonly liveWriters: number;
  /** This writer's lease connection pid. */
  readonly myPid: number;
}

export interface SharePlan {
  /** Tables per writer: ceil(eligible / writers). */
  readonly share: number;
  /** Leases to give up: tables no longer eligible, then any beyond a fair load. */
  readonly release: readonly number[];
  /** Unowned tables to try, in order, and how many of them to take. */
  readonly candidates: readonly number[];
  readonly take: number;
}

/**
 * Spreads tables over writers without a coordinator: each writer takes unowned tables up to its
 * share and gives up tables when it holds two or more than the least-loaded writer, so loads end up
 * within one of each other. Writers see each other's loads through pg_locks; one that dies drops
 * its leases with its connection, and the others take its tables at their next rebalance.
 */
export function planShare(input: ShareInput): SharePlan {
  const eligible = new Set(input.eligible);
  const loads = new Map<number, number>();
  for (const pid of input.holders.values()) loads.set(pid, (loads.get(pid) ?? 0) + 1);
  const mine = [...input.holders].filter(([, pid]) => pid === input.myPid).map(([table]) => table);
  const share = input.eligible.length === 0 ? 0 : Math.ceil(input.eligible.length / input.liveWriters);

  const release = mine.filter((table) => !eligible.has(table));
  let load = mine.length - release.length;
  const others = [...loads].filter(([pid]) => pid !== input.myPid).map(([, n]) => n);
  const idleOthers = input.liveWriters - 1 - others.length;
  const minOther = idleOthers > 0 ? 0 : others.length > 0 ? Math.min(...others) : Infinity;

  const keep = mine.filter((table) => eligible.has(table)).sort((a, b) => a - b);
  const excess = Math.max(load - share, minOther !== Infinity && load - minOther >= 2 ? 1 : 0);
  for (const table of keep.slice(keep.length - excess)) {
    release.push(table);
    load--;
  }

  const candidates = input.eligible.filter((table) => !input.holders.has(table)).sort((a, b) => spread(a, input.myPid) - spread(b, input.myPid));
  const take = Math.max(0, Math.min(share - load, minOther === Infinity ? Infinity : minOther + 1 - load, candidates.length));
  return { share, release, candidates, take };
}

/** A per-writer order of the tables, so writers taking at once mostly try different ones. */
function spread(table: number, pid: number): number {
  return Math.imul(table ^ pid, 2654435761) >>> 0;
}
