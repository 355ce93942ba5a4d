import { Encoder } from '@msgpack/msgpack';
import { BufferedEvent, ChangeOp } from '@philotes/buffer';
import { encodePayload } from '@philotes/events';
import { PgoutputMessage, PgoutputProtocolError, RawTuple } from '@philotes/pgoutput';
import { PayloadWriter } from './payload-writer';
import { RelationRegistry, RelationState } from './relation-registry';
import { CopyVisibility } from './visibility';
import { XidWidener } from './xid-widener';

/** The source transaction being received. */
export interface OpenTransaction {
  readonly commitLsn: bigint;
  /** 64-bit (XidWidener). */
  readonly xid: number;
  readonly commitTime: bigint;
  /** Position the next change gets. Skipped changes still take a position, so positions never shift. */
  nextSeq: number;
  /** Positions up to here were stored by an earlier session (a large transaction stored in part). */
  readonly storedThrough: number;
}

export interface AssemblerSink {
  event(event: BufferedEvent, relation: RelationState): void;
  /** A change stored as its size only, being larger than the limit. */
  oversized(relation: RelationState, bytes: number): void;
  /** The transaction is complete; `endLsn` is where the source may resume after it. */
  transactionEnd(endLsn: bigint, commitTime: bigint): void;
  unparsable(relation: RelationState, column: string): void;
}

/**
 * Turns the pgoutput stream into buffer events: tracks the open transaction, numbers its changes,
 * encodes rows, and leaves out what is already in the buffer (the stored part of a transaction that
 * was interrupted, and changes an initial copy already contains).
 */
export class ChangeAssembler {
  private open?: OpenTransaction;
  private readonly payloads: PayloadWriter;

  constructor(
    private readonly relations: RelationRegistry,
    private readonly encoder: Encoder,
    private readonly sink: AssemblerSink,
    private readonly copies: ReadonlyMap<number, CopyVisibility>,
    private readonly xids: XidWidener,
    /** PHILOTES_CDC_MAX_EVENT_BYTES: a payload larger than this is stored as its size (see ChangePayload.oversized). */
    private readonly maxPayloadBytes: () => number,
    private readonly resume?: { readonly commitLsn: bigint; readonly seq: number },
  ) {
    this.payloads = new PayloadWriter(encoder);
  }

  get openTransaction(): OpenTransaction | undefined {
    return this.open;
  }

  /** Handles one message; returns a promise only when it must wait (a relation to record). */
  handle(message: PgoutputMessage<RawTuple>): Promise<void> | undefined {
    switch (message.tag) {
      case 'begin':
        this.open = {
          commitLsn: message.finalLsn,
          xid: this.xids.widen(message.xid),
          commitTime: message.commitTime,
          nextSeq: 0,
          storedThrough: this.resume && this.resume.commitLsn === message.finalLsn ? this.resume.seq : -1,
        };
        return undefined;
      case 'commit':
        this.requireOpen('commit');
        this.open = undefined;
        this.sink.transactionEnd(message.endLsn, message.commitTime);
        return undefined;
      case 'relation':
        return this.relations
          .register(
            { relationOid: message.relationOid, schema: message.namespace, table: message.name, replicaIdentity: message.replicaIdentity, columns: message.columns },
            this.open?.commitLsn ?? 0n,
          )
          .then(() => undefined);
      case 'insert':
        return this.emit(this.relation(message.relationOid), 'I', message.newTuple, undefined, false);
      case 'update':
        return this.emit(this.relation(message.relationOid), 'U', message.newTuple, message.oldTuple, message.oldKind === 'K');
      case 'delete':
        return this.emit(this.relation(message.relationOid), 'D', undefined, message.oldTuple, message.oldKind === 'K');
      case 'truncate':
        for (const oid of message.relationOids) {
          const relation = this.relation(oid);
          const truncate = { cascade: message.cascade, restartIdentity: message.restartIdentity };
          this.store(relation, 'T', () => encodePayload(this.encoder, { truncate }, relation.kinds));
        }
        return undefined;
      case 'type':
      case 'origin':
      case 'message':
        // Types are resolved from the catalog; origins and logical messages carry no row changes.
        return undefined;
    }
  }

  /**
   * A row change the replication connection did not receive, being larger than the limit (see
   * MessageFilter): it keeps its place in the transaction and is stored as its size only, so the
   * writer sets it aside with the reason and the stream goes on (no restart at the same position).
   */
  oversized(relationOid: number, tag: string, bytes: number): undefined {
    const op = ({ I: 'I', U: 'U', D: 'D' } as const)[tag as 'I' | 'U' | 'D'];
    if (!op) throw new PgoutputProtocolError(`a pgoutput '${tag}' message of ${bytes} bytes is over PHILOTES_CDC_MAX_EVENT_BYTES, and only row changes can be stored without their content`);
    const relation = this.relation(relationOid);
    return this.store(relation, op, () => {
      this.sink.oversized(relation, bytes);
      return encodePayload(this.encoder, { oversized: bytes }, relation.kinds);
    });
  }

  private emit(relation: RelationState, op: ChangeOp, after: RawTuple | undefined, before: RawTuple | undefined, beforeIsKeyOnly: boolean): undefined {
    return this.store(relation, op, () => {
      const payload = this.payloads.write(relation, after, before, beforeIsKeyOnly, (column) => this.sink.unparsable(relation, column));
      if (payload.length <= this.maxPayloadBytes()) return payload;
      // Received whole (the message was under the limit) but larger once encoded: the same rule.
      this.sink.oversized(relation, payload.length);
      return encodePayload(this.encoder, { oversized: payload.length }, relation.kinds);
    });
  }

  /** Numbers the change and hands it on, unless the buffer already holds it (then it is not even encoded). */
  private store(relation: RelationState, op: ChangeOp, payload: () => Uint8Array): undefined {
    const open = this.requireOpen(op);
    const seq = open.nextSeq++;
    if (seq <= open.storedThrough) return undefined;
    if (this.copies.get(relation.tableId)?.contains(open.commitLsn, open.xid)) return undefined;
    this.sink.event(
      {
        tableId: relation.tableId,
        commitLsn: open.commitLsn,
        seq,
        op,
        xid: open.xid,
        commitTime: open.commitTime,
        schemaVersion: relation.schemaVersion,
        payload: payload(),
      },
      relation,
    );
    return undefined;
  }

  private relation(relationOid: number): RelationState {
    const relation = this.relations.get(relationOid);
    if (!relation) throw new PgoutputProtocolError(`change for relation ${relationOid} before its description`);
    return relation;
  }

  private requireOpen(what: string): OpenTransaction {
    if (!this.open) throw new PgoutputProtocolError(`${what} outside a transaction`);
    return this.open;
  }
}
