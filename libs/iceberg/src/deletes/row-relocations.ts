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
  /** The rows' keys in the same order, `keyBytes` each, when the relocations were told how to key a row. */
  readonly keys?: Uint8Array;
}

/** How a key index keys a row it places (the rows as a rewrite read them), written at `at` of `out`. */
export interface RowKeyer {
  readonly keyBytes: number;
  write(row: readonly unknown[], out: Uint8Array, view: DataView, at: number): void;
}

interface Run {
  readonly from: string;
  readonly to: string;
  readonly fromPositions: number[];
  readonly toPositions: number[];
  keys?: Buffer;
  keyView?: DataView;
}

/**
 * Where a compaction put every row it copied (old file and position to new), grouped by pair of
 * files: what moves a key index along with the rows, and what carries deletes committed during
 * the rewrite onto the rewritten files (see rebaseCompaction). Two numbers a row, and its key
 * when given a keyer (a key index moves its entries by key, so it needs no index by place).
 */
export class RowRelocations {
  private readonly byPair = new Map<string, Run>();

  constructor(private readonly keyer?: RowKeyer) {}

  add(from: RowLocation, to: RowLocation, row?: readonly unknown[]): void {
    const pair = `${from.path}\u0000${to.path}`;
    let run = this.byPair.get(pair);
    if (!run) this.byPair.set(pair, (run = { from: from.path, to: to.path, fromPositions: [], toPositions: [] }));
    if (this.keyer) {
      if (!row) throw new Error('relocations keyed by row: add() needs the row');
      const { keyBytes } = this.keyer;
      const at = run.fromPositions.length * keyBytes;
      if (!run.keys || at + keyBytes > run.keys.length) {
        // Doubling from a few keys: one buffer a run, whatever its rows (a run may hold one row).
        const grown = Buffer.allocUnsafe(Math.max(16 * keyBytes, (run.keys?.length ?? 0) * 2));
        if (run.keys) run.keys.copy(grown, 0, 0, at);
        run.keys = grown;
        run.keyView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
      }
      this.keyer.write(row, run.keys, run.keyView!, at);
    }
    run.fromPositions.push(from.position);
    run.toPositions.push(to.position);
  }

  get runs(): readonly RelocationRun[] {
    return [...this.byPair.values()].map(({ from, to, fromPositions, toPositions, keys }) => ({
      from,
      to,
      fromPositions,
      toPositions,
      ...(keys ? { keys: keys.subarray(0, fromPositions.length * this.keyer!.keyBytes) } : {}),
    }));
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
