import { Registry } from 'prom-client';
import { MemoryBuffer } from '@philotes/buffer';
import { FaultInjector } from '@philotes/faults';
import { ReplicationStream, StreamMessage, StreamOptions } from '@philotes/replication';
import { ReaderMetrics } from './reader-metrics';
import { RelationRegistry } from './relation-registry';
import { SessionSettings, StreamingSession } from './streaming-session';
import { TypeResolver } from './type-resolver';

/**
 * StreamingSession with every collaborator in memory: the buffer (MemoryBuffer), the replication
 * stream (messages pushed by the test, statuses recorded), the source's type catalog (built-in
 * types only). Real: the session, the pgoutput decoder, the change assembler, the payload encoder.
 */

/** pgoutput messages, byte by byte from the protocol documentation. */
const pg = {
  relation: (oid: number, schema: string, table: string, columns: ReadonlyArray<{ name: string; typeOid: number; key?: boolean }>) =>
    Buffer.concat([
      Buffer.from('R'),
      u32(oid),
      cstring(schema),
      cstring(table),
      Buffer.from('d'),
      i16(columns.length),
      ...columns.flatMap((c) => [Buffer.from([c.key ? 1 : 0]), cstring(c.name), u32(c.typeOid), i32(-1)]),
    ]),
  begin: (finalLsn: bigint, xid: number) => Buffer.concat([Buffer.from('B'), i64(finalLsn), i64(1_000_000n), u32(xid)]),
  insert: (oid: number, values: readonly string[]) => Buffer.concat([Buffer.from('I'), u32(oid), Buffer.from('N'), i16(values.length), ...values.flatMap((v) => [Buffer.from('t'), i32(Buffer.byteLength(v)), Buffer.from(v)])]),
  commit: (commitLsn: bigint, endLsn: bigint) => Buffer.concat([Buffer.from('C'), Buffer.from([0]), i64(commitLsn), i64(endLsn), i64(1_000_000n)]),
};
function int(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}
const u32 = (v: number) => int(4, (b) => b.writeUInt32BE(v));
const i32 = (v: number) => int(4, (b) => b.writeInt32BE(v));
const i16 = (v: number) => int(2, (b) => b.writeInt16BE(v));
const i64 = (v: bigint) => int(8, (b) => b.writeBigInt64BE(v));
function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s), Buffer.from([0])]);
}

/** The source's side of the replication connection, driven by the test. */
class FakeStream implements ReplicationStream {
  readonly statuses: Array<{ confirmed: bigint; replyRequested: boolean }> = [];
  paused = false;
  private options?: StreamOptions;
  private end?: (error?: unknown) => void;

  start(options: StreamOptions): Promise<void> {
    this.options = options;
    return new Promise((resolve, reject) => (this.end = (error) => (error ? reject(error) : resolve())));
  }
  sendStatus(confirmed: bigint, replyRequested = false): void {
    this.statuses.push({ confirmed, replyRequested });
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  send(...bodies: Buffer[]): void {
    for (const body of bodies) this.options!.onMessage({ kind: 'xlog', walStart: 0n, walEnd: 0n, body } as StreamMessage);
  }
  keepalive(walEnd: bigint, replyRequested = false): void {
    this.options!.onMessage({ kind: 'keepalive', walEnd, replyRequested });
  }
  get started(): boolean {
    return this.options !== undefined;
  }
}

const HOUR = 3_600_000;
const settings = (over: Partial<SessionSettings> = {}): SessionSettings => ({
  batchSize: 3,
  flushIntervalMs: HOUR,
  bufferSize: 10_000,
  bufferBytes: 64 * 1024 * 1024,
  maxEventBytes: 64 * 1024 * 1024,
  checkpointIntervalMs: HOUR,
  backpressureEnabled: false,
  backpressureCheckIntervalMs: HOUR,
  backpressureHighBytes: 1,
  backpressureLowBytes: 1,
  backpressureStoppedTableMaxBytes: 1,
  ...over,
});

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const START = 0x1000n;
const ORDERS = 16_400;

function sessionOf(over: Partial<SessionSettings> = {}) {
  const buffer = new MemoryBuffer();
  buffer.checkpoints.set('src', { slot: 'slot', confirmedLsn: START });
  const stream = new FakeStream();
  const session = new StreamingSession({
    sourceId: 'src',
    slot: 'slot',
    publication: 'pub',
    replication: stream,
    checkpoint: { confirmedLsn: START },
    checkpointer: buffer.checkpointer,
    events: buffer.eventStore,
    relations: new RelationRegistry('src', buffer.schemaStore, new TypeResolver({ types: async () => new Map() }, quiet)),
    copies: new Map(),
    xidReference: 1_000,
    backlog: async () => ({ flowingBytes: 0, stopped: [] }),
    settings: () => settings(over),
    metrics: new ReaderMetrics(new Registry()),
    faults: new FaultInjector(undefined),
    log: quiet,
    onHoldChange: () => undefined,
  });
  const running = session.run();
  running.catch(() => undefined);
  return { buffer, stream, session, running };
}

/** Polls a condition until it holds; fails after the deadline, naming what it waited for. */
async function until(what: string, condition: () => boolean, deadlineMs = 2_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const orders = pg.relation(ORDERS, 'public', 'orders', [
  { name: 'id', typeOid: 23, key: true },
  { name: 'note', typeOid: 25 },
]);
const transaction = (commitLsn: bigint, endLsn: bigint, rows: number) => [pg.begin(commitLsn, 700), ...Array.from({ length: rows }, (_, i) => pg.insert(ORDERS, [String(i + 1), `row ${i + 1}`])), pg.commit(commitLsn, endLsn)];

describe('StreamingSession', () => {
  it('stores a large transaction in batches, each with the checkpoint it makes true, and confirms only what is stored', async () => {
    const { buffer, stream, session, running } = sessionOf({ batchSize: 3 });
    await until('the stream to start', () => stream.started);
    stream.send(orders, ...transaction(0x2000n, 0x2100n, 7));
    await until('two batches', () => buffer.commits.length >= 2);
    // Mid-transaction: the position stays before it, with the part stored as partial.
    expect(buffer.commits[0].events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(buffer.commits[0].checkpoint).toEqual({ confirmedLsn: START, partial: { commitLsn: 0x2000n, seq: 2 } });
    session.stop();
    await running;
    const stored = buffer.events.map((e) => [e.commitLsn, e.seq]);
    expect(stored).toEqual(Array.from({ length: 7 }, (_, i) => [0x2000n, i]));
    expect(buffer.commits.at(-1)!.checkpoint).toMatchObject({ confirmedLsn: 0x2100n });
    expect(buffer.commits.at(-1)!.checkpoint.partial).toBeUndefined();
    // Every status names a position that was durably stored when it was sent.
    const durable = [START, ...buffer.commits.map((c) => c.checkpoint.confirmedLsn)];
    for (const status of stream.statuses) expect(durable).toContain(status.confirmed);
    expect(stream.statuses.at(-1)!.confirmed).toBe(0x2100n);
    expect(stream.statuses.filter((s) => s.confirmed > START && s.confirmed < 0x2100n)).toEqual([]);
  });

  it('never confirms past a commit that failed, and ends with its error', async () => {
    const { buffer, stream, running } = sessionOf({ batchSize: 2 });
    await until('the stream to start', () => stream.started);
    buffer.failNextCommit = new Error('Connection terminated unexpectedly');
    stream.send(orders, ...transaction(0x2000n, 0x2100n, 2));
    await expect(running).rejects.toThrow('Connection terminated unexpectedly');
    expect(buffer.events).toEqual([]);
    expect(stream.statuses.every((s) => s.confirmed === START)).toBe(true);
  });

  it('moves an idle position to a keepalive, but not while part of a transaction waits', async () => {
    const { buffer, stream, session, running } = sessionOf({ batchSize: 100 });
    await until('the stream to start', () => stream.started);
    stream.keepalive(0x3000n);
    await until('the idle advance', () => stream.statuses.some((s) => s.confirmed === 0x3000n));
    expect(buffer.checkpoints.get('src')!.confirmedLsn).toBe(0x3000n);
    expect(session.idle).toBe(true);
    // A transaction begun and not committed: a keepalive past it must not move the position.
    stream.send(orders, pg.begin(0x4000n, 701), pg.insert(ORDERS, ['1', 'x']));
    const before = stream.statuses.length;
    stream.keepalive(0x5000n, true);
    await until('the answer to the keepalive', () => stream.statuses.length > before);
    expect(stream.statuses.slice(before).map((s) => s.confirmed)).toEqual([0x3000n]);
    expect(buffer.checkpoints.get('src')!.confirmedLsn).toBe(0x3000n);
    expect(session.idle).toBe(false);
    session.stop();
    await running;
  });

  it('stops reading the socket when its queue is full, and reads on once it drained', async () => {
    const { buffer, stream, session, running } = sessionOf({ batchSize: 1000, bufferSize: 4 });
    await until('the stream to start', () => stream.started);
    stream.send(orders, ...transaction(0x2000n, 0x2100n, 3));
    expect(stream.paused).toBe(true);
    await until('the queue to drain', () => !stream.paused);
    session.stop();
    await running;
    expect(buffer.events).toHaveLength(3);
  });
});
