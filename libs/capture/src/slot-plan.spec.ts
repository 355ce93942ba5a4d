import { LostSlotError, ReaderConfigurationError } from './errors';
import { planSlotStart, SlotFacts } from './slot-plan';
import type { SlotInfo } from './source-catalog';

const usable = (confirmed?: bigint, extra: Partial<SlotInfo> = {}): SlotInfo => ({ plugin: 'pgoutput', database: 'app', active: false, confirmedFlushLsn: confirmed, unusableReason: undefined, safeWalBytes: undefined, ...extra });
const facts = (over: Partial<SlotFacts>): SlotFacts => ({ slotName: 'philotes', sourceId: 'src', database: 'app', checkpoint: undefined, slot: undefined, startOverRequested: false, snapshotMode: 'initial', ...over });
const at = (lsn: bigint) => ({ confirmedLsn: lsn });

describe('planSlotStart', () => {
  it('resumes from a checkpoint whose slot is usable and not ahead of it', () => {
    expect(planSlotStart(facts({ checkpoint: at(100n), slot: usable(100n) }))).toEqual({ kind: 'resume' });
    expect(planSlotStart(facts({ checkpoint: at(100n), slot: usable(50n) }))).toEqual({ kind: 'resume' });
    expect(planSlotStart(facts({ checkpoint: at(100n), slot: usable(undefined) }))).toEqual({ kind: 'resume' });
  });

  it('takes a new slot on a first start, and adopts one somebody made', () => {
    expect(planSlotStart(facts({}))).toEqual({ kind: 'new-slot' });
    expect(planSlotStart(facts({ slot: usable(70n) }))).toEqual({ kind: 'adopt-slot', from: 70n });
    expect(planSlotStart(facts({ slot: usable(undefined) }))).toEqual({ kind: 'adopt-slot', from: undefined });
  });

  it("starts over when an operator asked, dropping the old slot whatever state it is in", () => {
    expect(planSlotStart(facts({ checkpoint: at(100n), slot: usable(500n, { unusableReason: 'lost' }), startOverRequested: true }))).toEqual({ kind: 'start-over', dropSlot: true });
    expect(planSlotStart(facts({ checkpoint: at(100n), startOverRequested: true }))).toEqual({ kind: 'start-over', dropSlot: false });
    // Without a checkpoint there is nothing to start over: a first start.
    expect(planSlotStart(facts({ startOverRequested: true }))).toEqual({ kind: 'new-slot' });
  });

  it('refuses a start over that could not copy the tables again', () => {
    expect(() => planSlotStart(facts({ checkpoint: at(1n), startOverRequested: true, snapshotMode: 'never' }))).toThrow(ReaderConfigurationError);
  });

  it("refuses a slot of another plugin or database, naming both", () => {
    expect(() => planSlotStart(facts({ slot: usable(1n, { plugin: 'wal2json' }) }))).toThrow(/plugin wal2json in database app/);
    expect(() => planSlotStart(facts({ checkpoint: at(1n), slot: usable(1n, { database: 'other' }) }))).toThrow(ReaderConfigurationError);
  });

  it('stops on a slot that lost changes the checkpoint needs', () => {
    const lost = (over: Partial<SlotFacts>) => {
      try {
        planSlotStart(facts(over));
      } catch (error) {
        return error instanceof LostSlotError ? error.message : `not a lost slot: ${String(error)}`;
      }
      return 'started';
    };
    expect(lost({ checkpoint: at(100n) })).toMatch(/no longer exists/);
    expect(lost({ checkpoint: at(100n), slot: usable(100n, { unusableReason: 'wal_removed' }) })).toMatch(/wal_removed/);
    expect(lost({ slot: usable(100n, { unusableReason: 'lost' }) })).toMatch(/lost/);
    expect(lost({ checkpoint: at(100n), slot: usable(200n) })).toMatch(/advanced to 0\/C8, past this source's checkpoint 0\/64/);
  });
});
