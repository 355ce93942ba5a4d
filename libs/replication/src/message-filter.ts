/**
 * Sits between the socket and pg's protocol parser on a replication connection, and keeps messages
 * too large to hold out of memory. pg's parser gathers every message whole (doubling its buffer as
 * it goes), so one 300 MB row — 600 MB of hex text in pgoutput — would take a gigabyte and more of
 * the reader before anything could refuse it, and the reader would die at the same position again
 * on every restart. A CopyData message whose length passes `limit` never reaches the parser: its
 * first bytes (the XLogData header and the pgoutput message's tag and relation) are kept and its
 * size reported, the rest is dropped as it streams past. Every other byte is passed on as it came,
 * in order, in the chunks it came in (sliced only around a dropped message).
 */
export interface OversizedMessage {
  /** The first bytes of the CopyData body (at most HEAD_BYTES). */
  readonly head: Buffer;
  /** The body's whole length. */
  readonly bytes: number;
}

/** XLogData's header (25 bytes) and the start of a pgoutput message: tag, relation id, tuple kind. */
export const HEAD_BYTES = 32;
const COPY_DATA = 0x64; // 'd'
const HEADER = 5; // type byte and 4-byte length (which counts itself)

export class MessageFilter {
  /** Bytes of a message header split across chunks. */
  private carried: Buffer = Buffer.alloc(0);
  /** Bytes of the current message still to pass on. */
  private passing = 0;
  /** Bytes of the current (dropped) message still to come. */
  private dropping = 0;
  private head: Buffer[] = [];
  private headBytes = 0;
  private dropped = 0;

  constructor(
    private readonly limit: () => number,
    private readonly forward: (chunk: Buffer) => void,
    private readonly oversized: (message: OversizedMessage) => void,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    let from = 0; // start of the run of bytes to pass on
    const flush = (to: number) => {
      if (to > from) this.forward(chunk.subarray(from, to));
    };
    while (at < chunk.length) {
      if (this.dropping > 0) {
        const n = Math.min(this.dropping, chunk.length - at);
        if (this.headBytes < HEAD_BYTES) {
          const keep = chunk.subarray(at, at + Math.min(n, HEAD_BYTES - this.headBytes));
          this.head.push(Buffer.from(keep));
          this.headBytes += keep.length;
        }
        this.dropping -= n;
        at += n;
        from = at;
        if (this.dropping === 0) this.oversized({ head: Buffer.concat(this.head), bytes: this.dropped });
        continue;
      }
      if (this.passing > 0) {
        const n = Math.min(this.passing, chunk.length - at);
        this.passing -= n;
        at += n;
        continue;
      }
      // A message starts here: its header may begin in an earlier chunk.
      const need = HEADER - this.carried.length;
      if (chunk.length - at < need) {
        flush(at);
        this.carried = Buffer.concat([this.carried, chunk.subarray(at)]);
        return;
      }
      const header = this.carried.length > 0 ? Buffer.concat([this.carried, chunk.subarray(at, at + need)]) : chunk.subarray(at, at + HEADER);
      const code = header[0];
      const body = header.readUInt32BE(1) - 4;
      if (code === COPY_DATA && body > this.limit()) {
        flush(at);
        this.carried = Buffer.alloc(0);
        at += need;
        from = at;
        this.dropping = body;
        this.dropped = body;
        this.head = [];
        this.headBytes = 0;
        if (body === 0) this.oversized({ head: Buffer.alloc(0), bytes: 0 });
        continue;
      }
      if (this.carried.length > 0) {
        // The header's first bytes were held back with the last chunk: they go on first.
        flush(at);
        this.forward(this.carried);
        this.carried = Buffer.alloc(0);
        from = at;
      }
      at += need;
      this.passing = body;
    }
    flush(at);
  }
}
