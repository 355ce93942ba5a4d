import { ClassifiedError } from '@philotes/retry';

/**
 * The slot is gone or can no longer stream: the WAL between our checkpoint and now may be lost.
 * Never fixed by recreating the slot silently; the operator decides (the message says how).
 */
export class LostSlotError extends ClassifiedError {
  constructor(slot: string, sourceId: string, detail: string) {
    super(
      `replication slot "${slot}" of source "${sourceId}" is unusable: ${detail}. Changes after the last checkpoint may be lost, ` +
        `so Philotes will not recreate the slot by itself. To start this source over, delete its rows from cdc_checkpoints ` +
        `and cdc_backfill (and the slot, if it still exists) and restart the reader: it copies the tables again.`,
      { retry: false, kind: 'configuration', action: 'resynchronise the source (see the message)' },
    );
  }
}

/** Configuration that cannot work (a slot of another plugin or database). */
export class ReaderConfigurationError extends ClassifiedError {
  constructor(message: string) {
    super(message, { retry: false, kind: 'configuration', action: 'fix the reader configuration' });
  }
}
