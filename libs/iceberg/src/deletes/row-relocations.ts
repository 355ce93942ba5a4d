/** One row's place: a data file and the row's position in it. */
export interface RowLocation {
  readonly path: string;
  readonly position: number;
}

/** Rows a rewrite copied from one file into another, position for position. */
export interface RelocationRun {
  readonly from: string;
  readonly to: string;
  readonly fromPositions: readonly number[];
  readonly toPositions: readonly number[];
}

/**
 * Where a compaction put every row it copied (old file and position to new), grouped by pair of
 * files: what moves a key index along with the rows, and what carries deletes committed during
 * the rewrite onto the rewritten files (see rebaseCompaction). Two numbers a row.
 */
export class RowRelocations {
  private readonly byPair = new Map<string, { from: string; to: string; fromPositions: number[]; toPositions: number[] }>();

  add(from: RowLocation, to: RowLocation): void {
    const pair = `${from.path}\u0000${to.path}`;
    let run = this.byPair.get(pair);
    if (!run) this.byPair.set(pair, (run = { from: from.path, to: to.path, fromPositions: [], toPositions: [] }));
    run.fromPositions.push(from.position);
    run.toPositions.push(to.position);
  }

  get runs(): readonly RelocationRun[] {
    return [...this.byPair.values()];
  }

  get size(): number {
    let rows = 0;
    for (const run of this.byPair.values()) rows += run.fromPositions.length;
    return rows;
  }

  /** The new place of each copied row of the given old files, by old path and position. */
  targets(paths: ReadonlySet<string>): Map<string, Map<number, RowLocation>> {
    const out = new Map<string, Map<number, RowLocation>>();
    for (const run of this.byPair.values()) {
      if (!paths.has(run.from)) continue;
      let byPosition = out.get(run.from);
      if (!byPosition) out.set(run.from, (byPosition = new Map()));
      for (let i = 0; i < run.fromPositions.length; i++) byPosition.set(run.fromPositions[i], { path: run.to, position: run.toPositions[i] });
    }
    return out;
  }
}
