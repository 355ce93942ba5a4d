import { BufferedEvent } from './buffered-event';

/**
 * Events in PostgreSQL's binary COPY format, for `COPY cdc_events (...) FROM STDIN (FORMAT binary)`.
 * Binary keeps the MessagePack payload as is (text COPY would double it as hex) and skips all
 * server-side parsing of LSNs and timestamps.
 */
export const COPY_COLUMNS = '(table_id, commit_lsn, seq, op, xid, commit_ts, schema_version, payload)';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FIELDS = 8;
// Per row: field count, then length + value for each field (payload and xid vary).
const FIXED_ROW_BYTES = 2 + (4 + 4) + (4 + 8) + (4 + 8) + (4 + 1) + 4 + (4 + 8) + (4 + 4) + 4;

export function encodeBinaryCopy(events: readonly BufferedEvent[]): Buffer {
  let size = SIGNATURE.length + 8 + 2;
  for (const event of events) size += FIXED_ROW_BYTES + (event.xid === null ? 0 : 8) + event.payload.length;
  const out = Buffer.allocUnsafe(size);
  let at = SIGNATURE.copy(out, 0);
  at = out.writeInt32BE(0, at); // flags
  at = out.writeInt32BE(0, at); // header extension length
  for (const event of events) {
    at = out.writeInt16BE(FIELDS, at);
    at = out.writeInt32BE(4, at);
    at = out.writeInt32BE(event.tableId, at);
    at = out.writeInt32BE(8, at);
    at = out.writeBigUInt64BE(event.commitLsn, at);
    at = out.writeInt32BE(8, at);
    at = out.writeBigInt64BE(BigInt(event.seq), at);
    at = out.writeInt32BE(1, at);
    at = out.writeUInt8(event.op.charCodeAt(0), at);
    if (event.xid === null) {
      at = out.writeInt32BE(-1, at);
    } else {
      at = out.writeInt32BE(8, at);
      at = out.writeBigInt64BE(BigInt(event.xid), at);
    }
    at = out.writeInt32BE(8, at);
    at = out.writeBigInt64BE(event.commitTime, at);
    at = out.writeInt32BE(4, at);
    at = out.writeInt32BE(event.schemaVersion, at);
    at = out.writeInt32BE(event.payload.length, at);
    at += Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength).copy(out, at);
  }
  at = out.writeInt16BE(-1, at); // trailer
  return at === size ? out : out.subarray(0, at);
}

/**
 * The rows of `COPY (SELECT <COPY_COLUMNS> …) TO STDOUT (FORMAT binary)`, the inverse of
 * encodeBinaryCopy. Payloads are views into `bytes` (no copy). Reading events this way skips
 * what a query result costs per row: text LSNs and integers to parse, the payload spelled in hex.
 */
export function decodeBinaryCopy(bytes: Buffer): BufferedEvent[] {
  if (bytes.length < SIGNATURE.length + 8 || !bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
  let at = SIGNATURE.length + 4;
  at += 4 + bytes.readInt32BE(at); // header extension
  const events: BufferedEvent[] = [];
  for (;;) {
    const fields = bytes.readInt16BE(at);
    at += 2;
    if (fields === -1) return events;
    if (fields !== FIELDS) throw new Error(`a binary COPY row of ${fields} fields; expected ${FIELDS}`);
    const tableId = bytes.readInt32BE(at + 4);
    at += 8;
    const commitLsn = bytes.readBigUInt64BE(at + 4);
    at += 12;
    const seq = Number(bytes.readBigInt64BE(at + 4));
    at += 12;
    const op = String.fromCharCode(bytes[at + 4]) as BufferedEvent['op'];
    at += 5;
    const xidLength = bytes.readInt32BE(at);
    const xid = xidLength < 0 ? null : Number(bytes.readBigInt64BE(at + 4));
    at += 4 + Math.max(xidLength, 0);
    const commitTime = bytes.readBigInt64BE(at + 4);
    at += 12;
    const schemaVersion = bytes.readInt32BE(at + 4);
    at += 8;
    const length = bytes.readInt32BE(at);
    const payload = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    events.push({ tableId, commitLsn, seq, op, xid, commitTime, schemaVersion, payload });
  }
}
