import { ClientBase } from 'pg';
import { PayloadReader } from '@philotes/events';
import { DEAD_LETTER_MOVES, DeadLetterMoveName, DeadLetterStatus, mayMove, OPEN_STATUSES } from '../dead-letter-model';
import { decodeEvent } from '../event-decoding';
import { BEFORE_FIRST, comparePositions, DecodedEvent, Position, StoredEvent, TableSchemaVersion, UnversionedEvent } from '../event-forms';
import { DeadLetter, OpenDeadLetter, ReplayOutcome, SETTLE_MOVE, StoredDeadLetter } from '../postgres/dead-letter-store';
import { BackfillState, CopyReason } from '../ports';
import { BufferCommitUnit, CopyState, TableBuffer, TableCommit } from '../table-buffer';
import { MemoryBuffer } from './memory-buffer';

/** A dead letter as the memory buffer keeps it: the event whole, where it stands, and its history. */
export interface MemoryDeadLetter {
  readonly id: string;
  readonly tableId: number;
  readonly status: DeadLetterStatus;
  readonly event: UnversionedEvent;
  readonly kind: string;
  readonly message: string;
  readonly attempts: number;
  readonly key?: string;
  /** The events of its moves (DEAD_LETTER_MOVES[...].event), oldest first. */
  readonly history: readonly string[];
}

/** A table's copy (`cdc_backfill`) as the memory buffer keeps it. */
export interface MemoryCopy {
  readonly status: BackfillState['status'];
  readonly finished: boolean;
  readonly rowsCopied: number;
  readonly reason: CopyReason;
}

/** Stands in for the transaction's connection: nothing runs SQL against the memory buffer. */
const NO_SQL = {
  query: (() => Promise.reject(new Error('the memory buffer runs no SQL: a catalog that joins its commit must enlist (see BufferCommitUnit)'))) as unknown as ClientBase['query'],
};

/**
 * The table writers' buffer in memory, for unit tests of TableWriter: the events and schema
 * versions of a MemoryBuffer (what the reader's ports stored), with the writer's progress, dead
 * letters and copies beside them. The same contracts as PostgresTableBuffer: the position moves by
 * compare-and-swap; a commit applies all of its changes or none (what it changed is staged, and
 * the changes enlisted in its unit, an in-memory catalog's swap, stand or fall with it); commits
 * run one at a time, as the position's row lock makes them; every dead-letter move is guarded by
 * the statuses the model allows it from (mayMove). `failNextCommit` makes the next commit fail
 * once its work is done, as a lost connection at COMMIT would. State changed directly (the test
 * helpers, the maps) is what another process would have committed.
 */
export class MemoryTableBuffer implements TableBuffer {
  readonly positions = new Map<number, { readonly position: Position; readonly commitTime: bigint }>();
  readonly deadLetters: MemoryDeadLetter[] = [];
  readonly copies = new Map<number, MemoryCopy>();
  /** Every settle of a caught-up table (the memory buffer keeps no byte counters to heal). */
  readonly settles: Array<{ readonly tableId: number; readonly at: Position }> = [];
  /** How many commits stood. */
  committed = 0;
  failNextCommit?: Error;
  private readonly payloads = new PayloadReader();
  private letterIds = 0;
  private running: Promise<unknown> = Promise.resolve();

  constructor(readonly events: MemoryBuffer = new MemoryBuffer()) {}

  async storedAfter(tableId: number, after: Position, limit: number, maxBytes = 0): Promise<StoredEvent[]> {
    const page: StoredEvent[] = [];
    let bytes = 0;
    for (const event of this.tableEvents(tableId, after)) {
      if (page.length >= limit || (maxBytes > 0 && page.length > 0 && bytes >= maxBytes)) break;
      bytes += event.payload.length;
      page.push({ ...event, columns: (await this.version(tableId, event.schemaVersion)).columns });
    }
    return page;
  }

  async after(tableId: number, after: Position, limit: number): Promise<DecodedEvent[]> {
    return (await this.storedAfter(tableId, after, limit)).map((stored) => this.decodeStored(stored));
  }

  decodeStored(stored: StoredEvent): DecodedEvent {
    return decodeEvent(this.payloads, stored, stored.columns);
  }

  async decode(tableId: number, event: UnversionedEvent): Promise<DecodedEvent> {
    return decodeEvent(this.payloads, event, (await this.version(tableId, event.schemaVersion)).columns);
  }

  async version(tableId: number, version: number): Promise<TableSchemaVersion> {
    const found = this.events.versions.get(tableId)?.[version - 1];
    if (!found) throw new Error(`table ${tableId} has no schema version ${version}`);
    return { columns: found.schema.columns, replicaIdentity: found.schema.replicaIdentity };
  }

  async nextVersion(tableId: number, after: Position): Promise<number | undefined> {
    return this.tableEvents(tableId, after)[0]?.schemaVersion;
  }

  async latestVersion(tableId: number): Promise<number | undefined> {
    return this.events.versions.get(tableId)?.length || undefined;
  }

  async copied(tableId: number): Promise<boolean> {
    return this.copies.get(tableId)?.status === 'done';
  }

  async position(tableId: number): Promise<Position> {
    return this.positions.get(tableId)?.position ?? BEFORE_FIRST;
  }

  async settleCaughtUp(tableId: number, at: Position): Promise<void> {
    this.settles.push({ tableId, at });
  }

  /** The rule of copyHoldsTableSql, row for row. */
  async copyHolds(tableId: number): Promise<boolean> {
    const copy = this.copies.get(tableId);
    if (!copy) return false;
    return copy.status === 'copying' || copy.status === 'failed' || (copy.status === 'requested' && (!copy.finished || copy.reason === 'recreated'));
  }

  async copyState(tableId: number): Promise<CopyState | undefined> {
    const copy = this.copies.get(tableId);
    return copy && { status: copy.status, finished: copy.finished };
  }

  async openDeadLetters(tableId: number): Promise<OpenDeadLetter[]> {
    return this.lettersOf(tableId, OPEN_STATUSES).map((letter) => ({
      id: letter.id,
      status: letter.status as OpenDeadLetter['status'],
      ...(letter.key === undefined ? {} : { key: letter.key }),
      position: letter.event.position,
    }));
  }

  async replayingDeadLetters(tableId: number, limit: number): Promise<StoredDeadLetter[]> {
    return this.lettersOf(tableId, [DEAD_LETTER_MOVES.requestReplay.to])
      .slice(0, limit)
      .map(({ id, event }) => ({ id, position: event.position, op: event.op, xid: event.xid, commitTime: event.commitTime, schemaVersion: event.schemaVersion, payload: event.payload }));
  }

  commit<T>(work: (commit: TableCommit) => Promise<T>): Promise<T> {
    const run = this.running.then(() => this.runCommit(work));
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Another writer (or a copy's plan) moved the table's position. */
  setPosition(tableId: number, position: Position, commitTime = 0n): void {
    this.positions.set(tableId, { position, commitTime });
  }

  /** An operator's request to replay these letters (pending ones only, as DEAD_LETTER_MOVES.requestReplay allows). */
  requestReplay(ids: readonly string[]): void {
    for (const id of ids) {
      const i = this.deadLetters.findIndex((letter) => letter.id === id);
      if (i >= 0 && mayMove('requestReplay', this.deadLetters[i].status)) this.deadLetters[i] = moved(this.deadLetters[i], 'requestReplay');
    }
  }

  /** The table's letters in these statuses, in source order. */
  lettersOf(tableId: number, statuses: readonly DeadLetterStatus[]): MemoryDeadLetter[] {
    return this.deadLetters
      .filter((letter) => letter.tableId === tableId && statuses.includes(letter.status))
      .sort((a, b) => comparePositions(a.event.position, b.event.position));
  }

  private tableEvents(tableId: number, after: Position): Array<UnversionedEvent & { readonly payload: Buffer }> {
    return this.events.events
      .filter((event) => event.tableId === tableId && comparePositions({ lsn: event.commitLsn, seq: event.seq }, after) > 0)
      .sort((a, b) => comparePositions({ lsn: a.commitLsn, seq: a.seq }, { lsn: b.commitLsn, seq: b.seq }))
      .map((event) => ({
        position: { lsn: event.commitLsn, seq: event.seq },
        op: event.op,
        xid: event.xid,
        commitTime: event.commitTime,
        schemaVersion: event.schemaVersion,
        payload: Buffer.from(event.payload),
      }));
  }

  private async runCommit<T>(work: (commit: TableCommit) => Promise<T>): Promise<T> {
    const positions = new Map<number, { readonly position: Position; readonly commitTime: bigint }>();
    const letters = new Map<string, MemoryDeadLetter>();
    const enlisted: Array<{ commit(): void; rollback(): void }> = [];
    let open = true;
    const live = () => {
      if (!open) throw new Error('the commit is over: its transaction is used after it ended');
    };
    const letter = (id: string) => letters.get(id) ?? this.deadLetters.find((found) => found.id === id);
    const currentPosition = (tableId: number) => (positions.get(tableId) ?? this.positions.get(tableId))?.position ?? BEFORE_FIRST;
    const unit: BufferCommitUnit = {
      db: NO_SQL,
      enlist: (change) => {
        live();
        enlisted.push(change);
      },
    };
    const commit: TableCommit = {
      unit,
      copyIsWhole: async (tableId, marker, rows) => {
        live();
        const copy = this.copies.get(tableId);
        const markerStored = this.events.events.some((e) => e.tableId === tableId && e.commitLsn === marker.position.lsn && e.seq === marker.position.seq && e.commitTime === marker.commitTime);
        return copy !== undefined && (copy.status === 'done' || copy.status === 'requested') && copy.finished && copy.rowsCopied === rows && markerStored;
      },
      confirm: async (tableId, expected) => {
        live();
        return comparePositions(currentPosition(tableId), expected) === 0;
      },
      advance: async (tableId, expected, next, commitTime) => {
        live();
        if (comparePositions(currentPosition(tableId), expected) !== 0) return false;
        positions.set(tableId, { position: next, commitTime });
        return true;
      },
      addDeadLetters: async (tableId, added: readonly DeadLetter[]) => {
        live();
        for (const dead of added) {
          const { change } = dead;
          // The event's identity is unique: a re-run of the same commit adds nothing twice.
          const known = [...this.deadLetters, ...letters.values()].some(
            (l) => l.tableId === tableId && comparePositions(l.event.position, change.position) === 0 && l.event.commitTime === change.commitTime,
          );
          if (known) continue;
          const born = dead.superseded ? DEAD_LETTER_MOVES.failSuperseded : DEAD_LETTER_MOVES.fail;
          const id = String(++this.letterIds);
          letters.set(id, {
            id,
            tableId,
            status: born.to,
            event: { position: change.position, op: change.op, xid: change.xid, commitTime: change.commitTime, schemaVersion: change.schemaVersion, payload: change.payload },
            kind: dead.kind,
            message: dead.message,
            attempts: dead.attempts,
            ...(dead.key === undefined ? {} : { key: dead.key }),
            history: dead.superseded ? [DEAD_LETTER_MOVES.fail.event, born.event] : [born.event],
          });
        }
      },
      supersedeDeadLetters: async (ids) => {
        live();
        for (const id of ids) {
          const found = letter(id);
          if (found && mayMove('supersede', found.status)) letters.set(id, moved(found, 'supersede'));
        }
      },
      settleDeadLetters: async (outcomes: readonly ReplayOutcome[]) => {
        live();
        let settled = 0;
        for (const outcome of outcomes) {
          const found = letter(outcome.id);
          const move = SETTLE_MOVE[outcome.outcome];
          if (!found || !mayMove(move, found.status)) continue;
          const failed = outcome.outcome === 'failed' ? { kind: outcome.kind, message: outcome.message, attempts: found.attempts + 1 } : {};
          letters.set(outcome.id, { ...moved(found, move), ...failed });
          settled++;
        }
        return settled === outcomes.length;
      },
    };
    try {
      const result = await work(commit);
      const failure = this.failNextCommit;
      this.failNextCommit = undefined;
      if (failure) throw failure;
      open = false;
      for (const [tableId, position] of positions) this.positions.set(tableId, position);
      for (const [id, changed] of letters) {
        const i = this.deadLetters.findIndex((found) => found.id === id);
        if (i >= 0) this.deadLetters[i] = changed;
        else this.deadLetters.push(changed);
      }
      for (const change of enlisted) change.commit();
      this.committed++;
      return result;
    } catch (error) {
      open = false;
      for (const change of enlisted) change.rollback();
      throw error;
    }
  }
}

/** The letter after a move the model allows (the caller checked mayMove). */
function moved(letter: MemoryDeadLetter, move: DeadLetterMoveName): MemoryDeadLetter {
  return { ...letter, status: DEAD_LETTER_MOVES[move].to, history: [...letter.history, DEAD_LETTER_MOVES[move].event] };
}
