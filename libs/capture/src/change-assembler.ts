import { Encoder } from '@msgpack/msgpack';
import { BufferedEvent, ChangeOp } from '@philotes/buffer';
import { ChangePayload, encodePayload } from '@philotes/events';
import { PgoutputMessage, PgoutputProtocolError } from '@philotes/pgoutput';
import { RelationRegistry, RelationState } from './relation-registry';
import { tupleValues } from './tuple-values';
import { CopyVisibility } from './visibility';

/** The source transaction being received. */
export interface OpenTransaction {
  readonly commitLsn: bigint;
  readonly xid: number;
  readonly commitTime: bigint;
  /** Position the next change gets. Skipped changes still take a position, so positions never shift. */
  nextSeq: number;
  /** Positions up to here were stored by an earlier session (a large transaction stored in part). */
  readonly storedThrough: number;
}

export interface AssemblerSink {
  event(event: BufferedEvent, relation: RelationState): void;
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

  constructor(
    private readonly relations: RelationRegistry,
    private readonly encoder: Encoder,
    private readonly sink: AssemblerSink,
    private readonly copies: ReadonlyMap<number, CopyVisibility>,
    private readonly resume?: { readonly commitLsn: bigint; readonly seq: number },
  ) {}

  get openTransaction(): OpenTransaction | undefined {
    return this.open;
  }

  /** Handles one message; returns a promise only when it must wait (a relation to record). */
  handle(message: PgoutputMessage): Promise<void> | undefined {
    switch (message.tag) {
      case 'begin':
        this.open = {
          commitLsn: message.finalLsn,
          xid: message.xid,
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
      case 'insert': {
        const relation = this.relation(message.relationOid);
        return this.emit(relation, 'I', { after: tupleValues(message.newTuple, relation, (c) => this.sink.unparsable(relation, c)) });
      }
      case 'update': {
        const relation = this.relation(message.relationOid);
        const unparsable = (c: string) => this.sink.unparsable(relation, c);
        return this.emit(relation, 'U', {
          after: tupleValues(message.newTuple, relation, unparsable),
          ...(message.oldTuple ? { before: tupleValues(message.oldTuple, relation, unparsable), beforeIsKeyOnly: message.oldKind === 'K' } : {}),
        });
      }
      case 'delete': {
        const relation = this.relation(message.relationOid);
        return this.emit(relation, 'D', {
          before: tupleValues(message.oldTuple, relation, (c) => this.sink.unparsable(relation, c)),
          beforeIsKeyOnly: message.oldKind === 'K',
        });
      }
      case 'truncate':
        for (const oid of message.relationOids) {
          this.emit(this.relation(oid), 'T', { truncate: { cascade: message.cascade, restartIdentity: message.restartIdentity } });
        }
        return undefined;
      case 'type':
      case 'origin':
      case 'message':
        // Types are resolved from the catalog; origins and logical messages carry no row changes.
        return undefined;
    }
  }

  private emit(relation: RelationState, op: ChangeOp, payload: ChangePayload): undefined {
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
        payload: encodePayload(this.encoder, payload, relation.kinds),
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
