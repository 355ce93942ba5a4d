import { DecodedEvent, COPY_MARKER_SEQ, StoredEvent } from '@philotes/buffer';
import { ClassifiedError, timedRetry } from '@philotes/retry';
import { DataFile } from '@philotes/iceberg';
import { AssembledBatch, BatchAssembler, PoisonChange, TableLayout } from '@philotes/table-mapping';
import { fillsCommit } from './commit-size';

/** The opening TRUNCATE of a copy: what follows is the table's whole content as of a snapshot. */
export function isCopyStart(stored: Pick<StoredEvent, 'op' | 'position'>): boolean {
  return stored.op === 'T' && stored.position.seq === COPY_MARKER_SEQ;
}

/** The copy changed under the writer (copied again, or not finished): fold it again later. */
export class CopyChangedError extends ClassifiedError {
  constructor(table: string, detail: string) {
    super(`table ${table}: its copy ${detail}; applying it again`, timedRetry('conflict', 'none; retried automatically'));
  }
}

/**
 * Whether the table's latest copy is complete in the buffer: done, or done and since asked for
 * again (a resync, the table left the publication) — its rows stay the table's until the next copy.
 */
export function copyFinished(state: { status: string; finished: boolean } | undefined): boolean {
  return state !== undefined && state.finished && (state.status === 'done' || state.status === 'requested');
}

export interface CopyRunDeps {
  /** The next page of the table's events after a position. */
  readonly next: (after: StoredEvent) => Promise<StoredEvent[]>;
  readonly decode: (stored: StoredEvent) => DecodedEvent;
  /** Writes rows as data files of the table (one per partition). */
  readonly writeFile: (batch: AssembledBatch) => Promise<readonly DataFile[]>;
  readonly targetFileSize: number;
  /** Poison values go along as dead letters (their attempts are spent); else they throw. */
  readonly skipPoison: boolean;
  /** For errors. */
  readonly table: string;
}

/** A copy folded for one commit: its files written, the batch describing the rest. */
export interface CopyRun {
  readonly files: readonly DataFile[];
  readonly batch: AssembledBatch;
  /** Events follow the copy in the buffer (the table has more to apply). */
  readonly more: boolean;
}

/**
 * Folds a copy — its TRUNCATE and every copied row after it — for ONE commit, so readers see the
 * table switch from its old content to the copy at once: never a mix, never half a copy. Rows go
 * to data files of the target size as they come (memory holds one file's rows); the commit then
 * lists them all. An upsert table's old files go in that commit (the TRUNCATE); an append table's
 * log gets the TRUNCATE and the copied rows. A crash before the commit leaves the files orphans.
 */
export async function foldCopyRun(first: readonly StoredEvent[], layout: TableLayout, deps: CopyRunDeps): Promise<CopyRun> {
  const files: DataFile[] = [];
  const poison: PoisonChange[] = [];
  const version = first[0].schemaVersion;
  let assembler = new BatchAssembler(layout);
  let rows = 0;
  let bytes = 0;
  let count = 0;
  let last: StoredEvent = first[0];
  let lastBatch: AssembledBatch | undefined;
  const flush = async (): Promise<void> => {
    const batch = assembler.result();
    lastBatch = batch;
    poison.push(...batch.poison);
    if (batch.rows.length > 0) files.push(...(await deps.writeFile(batch)));
    assembler = new BatchAssembler(layout);
    rows = 0;
    bytes = 0;
  };

  let page: readonly StoredEvent[] = first;
  let more = false;
  scan: for (;;) {
    for (const stored of page) {
      const opening = stored === first[0];
      if (!opening && (stored.op !== 'R' || stored.schemaVersion !== version)) {
        more = true;
        break scan;
      }
      // Rows of one copy carry its commit time: another means the copy was planned again meanwhile.
      if (stored.commitTime !== first[0].commitTime) throw new CopyChangedError(deps.table, 'was planned again while it was read');
      if (fillsCommit(rows, bytes, deps.targetFileSize)) await flush();
      const change = deps.decode(stored);
      // A poison value throws (PoisonValueError) until its attempts are spent: the caller retries.
      assembler.add(change, deps.skipPoison);
      bytes += change.payload.length;
      rows++;
      count++;
      last = stored;
    }
    page = await deps.next(last);
    if (page.length === 0) break;
  }
  await flush();
  const shape = lastBatch!;
  return {
    files,
    more,
    batch: {
      ...shape,
      rows: [],
      deletes: [],
      truncated: layout.mode === 'upsert',
      poison,
      touchedKeys: new Set<string>(),
      last: last.position,
      lastCommitTime: last.commitTime,
      count,
      pendingToast: [],
    },
  };
}
