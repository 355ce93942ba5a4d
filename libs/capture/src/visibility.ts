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
    // pgoutput sends 32-bit xids; the snapshot's are 64-bit (epoch + xid). Compare modulo 2^32 as
    // PostgreSQL does; the window around one snapshot is far smaller than 2^31.
    this.xmin = Number(snapshot.xmin & 0xffffffffn);
    this.xmax = Number(snapshot.xmax & 0xffffffffn);
    this.xip = new Set(snapshot.xip.map((xid) => Number(xid & 0xffffffffn)));
  }

  /** True when the transaction's changes to the table are already in the copy. */
  contains(commitLsn: bigint, xid: number): boolean {
    if (commitLsn >= this.snapshot.lsn) return false;
    if (precedes(xid, this.xmin)) return true;
    if (!precedes(xid, this.xmax)) return false;
    return !this.xip.has(xid);
  }
}

/** PostgreSQL's TransactionIdPrecedes for normal xids: a < b modulo 2^32. */
function precedes(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
