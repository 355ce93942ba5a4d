import { Checkpoint } from '@philotes/buffer';
import { formatLsn, Lsn } from '@philotes/pgoutput';
import { LostSlotError, ReaderConfigurationError } from './errors';
import type { SlotInfo } from './source-catalog';

/** How the reader starts on the source's slot. */
export type SlotStart =
  /** A checkpoint and its slot: stream on from the checkpoint. */
  | { readonly kind: 'resume' }
  /** An operator asked to start over: the old slot goes (if any), a new one is taken, every table is copied again. */
  | { readonly kind: 'start-over'; readonly dropSlot: boolean }
  /** The first start: a new slot, and its exported snapshot for the initial copy. */
  | { readonly kind: 'new-slot' }
  /** The first start on a slot someone else made: its snapshot is gone, tables are copied beside the stream. */
  | { readonly kind: 'adopt-slot'; readonly from: Lsn | undefined };

export interface SlotFacts {
  readonly slotName: string;
  readonly sourceId: string;
  /** The source database the reader is connected to. */
  readonly database: string;
  readonly checkpoint: Checkpoint | undefined;
  readonly slot: SlotInfo | undefined;
  readonly startOverRequested: boolean;
  readonly snapshotMode: 'initial' | 'never';
}

/**
 * The reader's start decision, from what the buffer and the source say (throws when it must not
 * start: a configuration to fix, or a slot that lost changes this source's checkpoint needs):
 *
 * | checkpoint | slot                          | start over asked | start                       |
 * | ---------- | ----------------------------- | ---------------- | --------------------------- |
 * | yes        | any                           | yes              | start-over (snapshot mode initial, else refused) |
 * | any        | another plugin or database    | no               | refused (configuration)     |
 * | yes        | none                          | no               | refused (slot lost)         |
 * | any        | unusable (lost, invalidated)  | no               | refused (slot lost)         |
 * | yes        | confirmed past the checkpoint | no               | refused (another consumer)  |
 * | yes        | usable                        | no               | resume                      |
 * | no         | none                          | –                | new-slot                    |
 * | no         | usable                        | –                | adopt-slot                  |
 */
export function planSlotStart(facts: SlotFacts): SlotStart {
  const { slotName, sourceId, checkpoint, slot } = facts;
  if (checkpoint && facts.startOverRequested) {
    if (facts.snapshotMode !== 'initial') {
      throw new ReaderConfigurationError('a resync from scratch copies every table again, which needs PHILOTES_CDC_SNAPSHOT_MODE=initial; set it, or withdraw the request (cdc_checkpoints.resync_requested_at)');
    }
    return { kind: 'start-over', dropSlot: slot !== undefined };
  }
  if (slot && (slot.plugin !== 'pgoutput' || slot.database !== facts.database)) {
    throw new ReaderConfigurationError(`replication slot "${slotName}" exists for plugin ${slot.plugin} in database ${slot.database}; Philotes needs a pgoutput slot in ${facts.database}`);
  }
  if (checkpoint && !slot) throw new LostSlotError(slotName, sourceId, 'it no longer exists on the source');
  if (slot?.unusableReason) throw new LostSlotError(slotName, sourceId, slot.unusableReason);
  if (checkpoint && slot?.confirmedFlushLsn !== undefined && slot.confirmedFlushLsn > checkpoint.confirmedLsn) {
    throw new LostSlotError(slotName, sourceId, `it was advanced to ${formatLsn(slot.confirmedFlushLsn)}, past this source's checkpoint ${formatLsn(checkpoint.confirmedLsn)} (another consumer?)`);
  }
  if (checkpoint) return { kind: 'resume' };
  return slot ? { kind: 'adopt-slot', from: slot.confirmedFlushLsn } : { kind: 'new-slot' };
}
