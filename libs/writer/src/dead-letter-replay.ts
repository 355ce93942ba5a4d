import { DecodedEvent, comparePositions, OpenDeadLetter, Position, ReplayOutcome } from '@philotes/buffer';
import { AssembledBatch, PoisonValueError } from '@philotes/table-mapping';

/** One replayed letter as the writer folded it: mapped onto the current schema, or refused there. */
export type ReplayedLetter =
  | { readonly id: string; readonly change: DecodedEvent }
  | { readonly id: string; readonly refused: PoisonValueError };

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
