import { CopySnapshot } from '@philotes/buffer';

/**
 * Decides which streamed transactions a table's initial copy already contains. The copy ran under
 * a snapshot; a transaction that committed before the WAL position read right after that snapshot
 * (`snapshot.lsn`) may be visible in it. If its xid is visible, its changes to that table are in the
 * copy and must not be applied twice. Transactions committing at or after `snapshot.lsn` began after
 * the snapshot and are never visible.
 */
export class CopyVisibility {
  private readonly xip: ReadonlySet<number>;
  private readonly xmin: number;
  private readonly xmax: number;

  constructor(readonly snapshot: CopySnapshot) {
    // 64-bit xids on both sides (the stream's are widened, XidWidener): exact, however old.
    this.xmin = Number(snapshot.xmin);
    this.xmax = Number(snapshot.xmax);
    this.xip = new Set(snapshot.xip.map(Number));
  }

  /** True when the transaction (its 64-bit xid) is already in the copy. */
  contains(commitLsn: bigint, xid: number): boolean {
    if (commitLsn >= this.snapshot.lsn) return false;
    if (xid < this.xmin) return true;
    if (xid >= this.xmax) return false;
    return !this.xip.has(xid);
  }
}
