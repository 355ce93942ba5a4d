const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;

/**
 * pgoutput sends 32-bit transaction ids; PostgreSQL's snapshots (`pg_current_snapshot()`) carry
 * 64-bit ones (epoch and xid). Stored widened, an event's xid compares with a copy's snapshot
 * exactly, however old the event: modulo 2^32 an event more than 2^31 transactions old (a busy
 * source, a long retention, a table waiting for a resync) looks like one from the future.
 *
 * Every transaction a session streams lies within 2^31 of the one before it (PostgreSQL stops
 * assigning xids long before a live one could wrap), so each is widened to the 64-bit id nearest
 * the last. The first reference is the source's next xid as the session starts.
 */
export class XidWidener {
  constructor(private reference: number) {}

  widen(xid: number): number {
    let delta = xid - (this.reference % TWO_32);
    if (delta > TWO_31) delta -= TWO_32;
    else if (delta <= -TWO_31) delta += TWO_32;
    this.reference += delta;
    return this.reference;
  }
}
