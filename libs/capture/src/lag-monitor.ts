import { Lsn, unixSecondsOfPgMicros } from '@philotes/pgoutput';
import type { ReaderMetrics } from './reader-metrics';
import type { SlotInfo } from './source-catalog';

/** A warning at most this often while the lag stays above a threshold. */
const LAG_WARNING_EVERY_MS = 60_000;

export interface LagSettings {
  readonly lagWarningBytes: number;
  readonly lagWarningAgeMs: number;
}

/** What the monitor reads of the streaming session, and how it ends that session. */
export interface StreamPosition {
  /** Nothing pending: a quiet source is not behind, however old its last commit. */
  readonly idle: boolean;
  /** PostgreSQL-epoch microseconds of the last commit stored. */
  readonly lastCommitTime?: bigint;
  /** Ends this session: its slot was dropped while it streamed. */
  readonly slotLost: () => void;
}

export interface LagMonitorDeps {
  readonly slot: string;
  /** The source's WAL end and the slot as it is now (undefined: dropped). */
  readonly read: () => Promise<{ readonly current: Lsn; readonly slot: SlotInfo | undefined }>;
  /** The session streaming now; undefined while none does (then nothing is measured). */
  readonly position: () => StreamPosition | undefined;
  readonly settings: () => LagSettings;
  readonly metrics: Pick<ReaderMetrics, 'slotActive' | 'slotSafeWalBytes' | 'lagBytes' | 'lagSeconds'>;
  readonly log: { warn(message: string, meta?: Record<string, unknown>): void };
  readonly now?: () => number;
}

/** Replication lag: how far the slot is behind the source's WAL, in bytes and seconds. */
export interface Lag {
  readonly bytes?: number;
  readonly seconds?: number;
}

/**
 * Measures the leader's replication lag and the slot's health on each check: the metrics, a
 * warning above the thresholds at most once a minute (one monitor per reader, so across its
 * sessions too), and the end of the session when the slot was dropped. Only a streaming reader
 * speaks for the slot: clear() zeroes what it reported when it stops, and a check that was under
 * way then reports nothing.
 */
export class LagMonitor {
  private last: Lag = {};
  private lastWarning = Number.NEGATIVE_INFINITY;
  /** Bumped by clear(): a check that started before it is stale. */
  private epoch = 0;

  constructor(private readonly deps: LagMonitorDeps) {}

  get lag(): Lag {
    return this.last;
  }

  async check(): Promise<void> {
    const position = this.deps.position();
    if (!position) return;
    const epoch = this.epoch;
    const { current, slot } = await this.deps.read();
    if (epoch !== this.epoch) return;
    if (!slot) {
      position.slotLost();
      return;
    }
    const { metrics } = this.deps;
    metrics.slotActive.set(slot.active ? 1 : 0);
    metrics.slotSafeWalBytes.reset();
    if (slot.safeWalBytes !== undefined) metrics.slotSafeWalBytes.set({ slot: this.deps.slot }, slot.safeWalBytes);
    const now = (this.deps.now ?? Date.now)();
    const bytes = slot.confirmedFlushLsn !== undefined ? Number(current - slot.confirmedFlushLsn) : undefined;
    const seconds = position.idle || position.lastCommitTime === undefined ? 0 : Math.max(0, now / 1000 - unixSecondsOfPgMicros(position.lastCommitTime));
    this.last = { bytes, seconds };
    if (bytes !== undefined) metrics.lagBytes.set(bytes);
    metrics.lagSeconds.set(seconds);
    const settings = this.deps.settings();
    const tooFar = (bytes ?? 0) > settings.lagWarningBytes || seconds * 1000 > settings.lagWarningAgeMs;
    if (tooFar && now - this.lastWarning > LAG_WARNING_EVERY_MS) {
      this.lastWarning = now;
      this.deps.log.warn('replication lag above the warning threshold', { lagBytes: bytes, lagSeconds: Math.round(seconds) });
    }
  }

  /** A reader that lost or gave up the lead must not keep reporting its last lag (a stale high value would alert). */
  clear(): void {
    this.epoch++;
    const { metrics } = this.deps;
    metrics.slotActive.set(0);
    metrics.lagBytes.set(0);
    metrics.lagSeconds.set(0);
    metrics.slotSafeWalBytes.reset();
    this.last = {};
  }
}
