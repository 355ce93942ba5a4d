import { Lsn, PG_EPOCH_UNIX_MICROS } from '@philotes/pgoutput';

export type StreamMessage =
  | { readonly kind: 'xlog'; readonly walStart: Lsn; readonly walEnd: Lsn; readonly body: Buffer }
  | { readonly kind: 'keepalive'; readonly walEnd: Lsn; readonly replyRequested: boolean }
  | OversizedChange;

/**
 * An XLogData message too large to receive (see MessageFilter): what its first bytes say — the
 * pgoutput message's tag ('I', 'U', 'D' for a row change) and relation — and its size.
 */
export interface OversizedChange {
  readonly kind: 'oversized';
  readonly walStart: Lsn;
  readonly tag: string;
  readonly relationOid: number;
  readonly bytes: number;
}

/** The oversized message's header, or undefined when it is not XLogData (then nothing can be said of it). */
export function parseOversized(head: Buffer, bytes: number): OversizedChange | undefined {
  if (head.length < 30 || head[0] !== 0x77 /* w */) return undefined;
  return { kind: 'oversized', walStart: head.readBigUInt64BE(1), tag: String.fromCharCode(head[25]), relationOid: head.readUInt32BE(26), bytes };
}

/** Splits the CopyBoth payloads of START_REPLICATION: XLogData ('w') and keepalives ('k'). */
export function parseStreamMessage(chunk: Buffer): StreamMessage | undefined {
  if (chunk[0] === 0x77 /* w */) {
    return { kind: 'xlog', walStart: chunk.readBigUInt64BE(1), walEnd: chunk.readBigUInt64BE(9), body: chunk.subarray(25) };
  }
  if (chunk[0] === 0x6b /* k */) {
    return { kind: 'keepalive', walEnd: chunk.readBigUInt64BE(1), replyRequested: chunk[17] === 1 };
  }
  return undefined;
}

/**
 * A standby status update ('r'). We report the same position as written, flushed and applied: the
 * end of the last transaction that is durably in the buffer. Exactly that LSN, never one past it:
 * PostgreSQL skips on restart every transaction whose commit record starts before the confirmed
 * position, and the next transaction's commit record can start exactly where the last one ended.
 */
export function standbyStatusUpdate(confirmed: Lsn, replyRequested: boolean, nowMicros: bigint = BigInt(Date.now()) * 1000n): Buffer {
  const message = Buffer.alloc(34);
  message[0] = 0x72; // r
  message.writeBigUInt64BE(confirmed, 1);
  message.writeBigUInt64BE(confirmed, 9);
  message.writeBigUInt64BE(confirmed, 17);
  message.writeBigInt64BE(nowMicros - PG_EPOCH_UNIX_MICROS, 25);
  message[33] = replyRequested ? 1 : 0;
  return message;
}
