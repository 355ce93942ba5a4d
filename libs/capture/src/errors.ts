import { ClassifiedError, needsOperator, timedRetry } from '@philotes/retry';

/**
 * The slot is gone or can no longer stream: the WAL between our checkpoint and now may be lost.
 * Never fixed by recreating the slot silently; the operator decides (the message says how).
 */
export class LostSlotError extends ClassifiedError {
  constructor(slot: string, sourceId: string, detail: string) {
    super(
      `replication slot "${slot}" of source "${sourceId}" is unusable: ${detail}. Changes after the last checkpoint may be lost, ` +
        `so Philotes will not recreate the slot by itself. To start this source over, resync it from scratch ` +
        `(dlq-admin: POST /api/v1/sources/${sourceId}/resync with {"fromScratch": true}) and restart the reader: it takes a new ` +
        `slot and copies every table again, replacing each Iceberg table's content in one snapshot.`,
      needsOperator('configuration', 'resynchronise the source (see the message)'),
    );
  }
}

/** Configuration that cannot work (a slot of another plugin or database). */
export class ReaderConfigurationError extends ClassifiedError {
  constructor(message: string) {
    super(message, needsOperator('configuration', 'fix the reader configuration'));
  }
}

/** An operator asked to start the source over: the session ends, the next start takes a new slot and copies every table. */
export class StartOverError extends ClassifiedError {
  constructor() {
    super('an operator asked to start the source over; restarting on a new slot', timedRetry('conflict', 'none; the reader copies every table again and streams on'));
  }
}

/** The oldest source server the reader speaks to; see {@link sourceVersionProblem}. */
export const OLDEST_SOURCE_VERSION = 130_000;

/**
 * Why a source server is too old, or undefined. PostgreSQL 13 brought what the reader relies on:
 * publish_via_partition_root (a partitioned table as one table) and pg_replication_slots'
 * wal_status and safe_wal_size (the slot's health); 12 is out of support since November 2024.
 */
export function sourceVersionProblem(versionNum: number): string | undefined {
  if (versionNum >= OLDEST_SOURCE_VERSION) return undefined;
  const major = versionNum >= 100_000 ? Math.floor(versionNum / 10_000) : `${Math.floor(versionNum / 10_000)}.${Math.floor(versionNum / 100) % 100}`;
  return `the source runs PostgreSQL ${major} (server_version_num ${versionNum}); the reader needs PostgreSQL 13 or later (publish_via_partition_root, pg_replication_slots.safe_wal_size)`;
}
