import type { LeaderLock } from '@philotes/buffer';
import { sleep } from '@philotes/retry';

export interface LeadershipDeps {
  readonly sourceId: string;
  /** The source's leader lock, on the connection the leader then writes on. */
  readonly lock: LeaderLock;
  /** How often a standby tries again; a takeover waits at most about this long. */
  readonly pollMs: number;
  /** Told once, the first time the lock is held elsewhere: this reader stands by. */
  readonly onStandby: () => void;
}

/**
 * Waits until this reader leads the source: takes the lock at once when it is free, else stands
 * by and tries again every `pollMs`. Resolves true once leading, false when the signal aborted
 * first (nothing is tried after it).
 */
export async function waitToLead(deps: LeadershipDeps, signal: AbortSignal): Promise<boolean> {
  let standingBy = false;
  while (!signal.aborted) {
    if (await deps.lock.tryAcquire(deps.sourceId)) return true;
    if (!standingBy) {
      standingBy = true;
      deps.onStandby();
    }
    await sleep(deps.pollMs, signal).catch(() => undefined);
  }
  return false;
}
