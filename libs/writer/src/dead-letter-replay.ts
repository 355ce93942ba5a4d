import { DecodedEvent, comparePositions, OpenDeadLetter, Position, ReplayOutcome, TableBuffer, TableRef } from '@philotes/buffer';
import { AssembledBatch, BatchAssembler, ontoSchema, PoisonValueError, TableLayout } from '@philotes/table-mapping';
import type { StepOutcome, WriterLog, WriterSettings } from './table-writer';
import { WriterMetrics } from './writer-metrics';

/** One replayed letter as the writer folded it: mapped onto the current schema, or refused there. */
export type ReplayedLetter =
  | { readonly id: string; readonly change: DecodedEvent }
  | { readonly id: string; readonly refused: PoisonValueError };

/** What a replay's commit settles: each letter's outcome, and the other open letters it supersedes. */
export interface ReplaySettlement {
  readonly outcomes: readonly ReplayOutcome[];
  readonly supersede: readonly string[];
}

/**
 * How a replay ends for each letter, and which other open letters it supersedes: the decisions of
 * a replay's commit, apart from its I/O. A letter whose value still does not map fails again
 * (back to pending with the new error); one a later change of the same replay outdated is
 * superseded; the others are replayed. An older open letter of a key the replay wrote is
 * superseded by it (replaying it later would move the row back in time).
 */
export function settleReplay(
  letters: readonly ReplayedLetter[],
  batch: Pick<AssembledBatch, 'poison' | 'touchedKeys'>,
  keyOf: (change: DecodedEvent) => string | undefined,
  open: readonly OpenDeadLetter[],
): { readonly outcomes: ReplayOutcome[]; readonly supersede: string[] } {
  const failed = new Map(batch.poison.map((p) => [p.change, p]));
  const outcomes = letters.map((letter): ReplayOutcome => {
    if ('refused' in letter) return { id: letter.id, outcome: 'failed', kind: letter.refused.directive.kind, message: letter.refused.message };
    const poison = failed.get(letter.change);
    if (!poison) return { id: letter.id, outcome: 'replayed' };
    if (poison.superseded) return { id: letter.id, outcome: 'superseded' };
    return { id: letter.id, outcome: 'failed', kind: poison.error.directive.kind, message: poison.error.message };
  });
  const written = new Map<string, Position>();
  for (const letter of letters) {
    if ('refused' in letter || failed.has(letter.change)) continue;
    const key = keyOf(letter.change);
    if (key !== undefined && batch.touchedKeys.has(key)) written.set(key, letter.change.position);
  }
  const inRun = new Set(letters.map((letter) => letter.id));
  const supersede = open
    .filter((letter) => !inRun.has(letter.id) && letter.key !== undefined && written.has(letter.key) && comparePositions(letter.position, written.get(letter.key)!) < 0)
    .map((letter) => letter.id);
  return { outcomes, supersede };
}

/** Replay outcomes counted, for the metric and the log line. */
export function countOutcomes(outcomes: readonly ReplayOutcome[]): Record<ReplayOutcome['outcome'], number> {
  const counts = { replayed: 0, superseded: 0, failed: 0 };
  for (const outcome of outcomes) counts[outcome.outcome]++;
  return counts;
}

/**
 * What a replay borrows from its table's writer: the Iceberg table as the writer loaded it, and
 * the writer's commit (one commit path for the stream and for replays).
 */
export interface ReplayTarget {
  /** `schema.table`, for errors and logs. */
  readonly qualified: string;
  /** The table's position this step; the replay's commit leaves it there. */
  position(): Position | undefined;
  /** The Iceberg table loaded, or created from these columns; false when it cannot be yet (the step is idle). */
  loadTable(first: Pick<DecodedEvent, 'columns'>, settings: WriterSettings): Promise<boolean>;
  layoutFor(first: Pick<DecodedEvent, 'columns'>, settings: WriterSettings): TableLayout;
  /** Fills unchanged TOAST values from the table (see resolveToast). */
  resolveToast(batch: AssembledBatch): Promise<AssembledBatch>;
  /** Writes the batch and publishes it in one commit that settles the letters, the position unchanged. */
  commit(layout: TableLayout, batch: AssembledBatch, open: readonly OpenDeadLetter[], settlement: ReplaySettlement): Promise<void>;
}

/**
 * Applies dead letters an operator asked to replay, in source order, in one commit that also
 * settles their status (so a replay lands once however often it was asked for). The table's
 * position stays: these events are older than it. A letter whose key was written by a later
 * change since is never replayed: that change superseded it (see TableCommit.supersedeDeadLetters).
 */
export class DeadLetterReplay {
  constructor(
    readonly ref: TableRef,
    private readonly deps: {
      readonly buffer: Pick<TableBuffer, 'replayingDeadLetters' | 'decode' | 'nextVersion' | 'latestVersion' | 'version'>;
      readonly metrics: Pick<WriterMetrics, 'replays'>;
      readonly log: Pick<WriterLog, 'info'>;
      readonly target: ReplayTarget;
    },
  ) {}

  /** One commit's worth of the table's letters waiting to be replayed; 'more' to look again at the next step. */
  async run(open: readonly OpenDeadLetter[], settings: WriterSettings): Promise<StepOutcome> {
    const { buffer, target } = this.deps;
    const tableId = this.ref.tableId;
    const stored = await buffer.replayingDeadLetters(tableId, settings.batchSize);
    if (stored.length === 0) return 'more';
    const decoded = await Promise.all(stored.map((letter) => buffer.decode(tableId, letter)));
    // Every letter onto the schema version the stream applies next (the newest one once it is
    // caught up), whatever it was captured under: a replay must not move the Iceberg table back to
    // an older shape, nor ahead of changes still waiting under an older one (see ontoSchema).
    const position = target.position();
    const version = (position ? await buffer.nextVersion(tableId, position) : undefined) ?? (await buffer.latestVersion(tableId)) ?? decoded[0].schemaVersion;
    const { columns } = await buffer.version(tableId, version);
    const letters = decoded.map((change, i): ReplayedLetter => {
      try {
        return { id: stored[i].id, change: ontoSchema(change, version, columns, target.qualified) };
      } catch (error) {
        if (!(error instanceof PoisonValueError)) throw error;
        return { id: stored[i].id, refused: error };
      }
    });
    const mapped = letters.flatMap((letter) => ('change' in letter ? [letter.change] : []));
    if (!(await target.loadTable(mapped[0] ?? { columns }, settings))) return 'idle';
    const layout = target.layoutFor({ columns }, settings);
    const assembler = new BatchAssembler(layout, { replay: true });
    for (const change of mapped) assembler.add(change, true);
    const batch = await target.resolveToast(assembler.result());

    const settlement = settleReplay(letters, batch, (change) => assembler.keyOfChange(change), open);
    await target.commit(layout, batch, open, settlement);
    const counts = countOutcomes(settlement.outcomes);
    for (const outcome of ['replayed', 'superseded', 'failed'] as const) this.deps.metrics.replays.inc({ outcome }, counts[outcome]);
    this.deps.log.info('replayed dead letters', { table: target.qualified, replayed: counts.replayed, superseded: counts.superseded, failedAgain: counts.failed });
    return 'more';
  }
}
