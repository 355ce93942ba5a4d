import { DecodedEvent, OpenDeadLetter } from '@philotes/buffer';
import { change, column, PoisonValueError } from '@philotes/table-mapping';
import { countOutcomes, ReplayedLetter, settleReplay } from './dead-letter-replay';

const columns = [column('id', 'int4', { key: true }), column('v', 'text')];
const at = (lsn: bigint): Pick<DecodedEvent, 'position'> => ({ position: { lsn, seq: 0 } });
const upsert = (id: number, lsn: bigint): DecodedEvent => ({ ...change('U', columns, { after: [id, 'x'] }), ...at(lsn) });
const keyOf = (c: DecodedEvent) => String(c.after?.[0]);
const openLetter = (id: string, key: string, lsn: bigint): OpenDeadLetter => ({ id, status: 'pending', key, position: { lsn, seq: 0 } });

describe('settling a dead-letter replay', () => {
  it('replays what folded, fails what still does not map or fold, and marks what a later change of the replay outdated', () => {
    const ok = upsert(1, 10n);
    const poisoned = upsert(2, 11n);
    const outdated = upsert(3, 12n);
    const refused = new PoisonValueError('v', 'not representable', 'fix it');
    const letters: ReplayedLetter[] = [{ id: 'a', change: ok }, { id: 'b', change: poisoned }, { id: 'c', change: outdated }, { id: 'd', refused }];
    const batch = {
      poison: [
        { change: poisoned, error: new PoisonValueError('v', 'still bad', 'fix it') },
        { change: outdated, error: new PoisonValueError('v', 'bad', 'fix it'), superseded: true },
      ],
      touchedKeys: new Set(['1']),
    };
    const { outcomes } = settleReplay(letters, batch, keyOf, []);
    expect(outcomes).toEqual([
      { id: 'a', outcome: 'replayed' },
      { id: 'b', outcome: 'failed', kind: 'poison', message: 'column v: still bad' },
      { id: 'c', outcome: 'superseded' },
      { id: 'd', outcome: 'failed', kind: 'poison', message: 'column v: not representable' },
    ]);
    expect(countOutcomes(outcomes)).toEqual({ replayed: 1, superseded: 1, failed: 2 });
  });

  it('supersedes only older open letters of keys the replay wrote, never the letters being replayed', () => {
    const written = upsert(1, 20n);
    const notWritten = upsert(2, 21n);
    const open = [openLetter('a', '1', 20n), openLetter('older', '1', 5n), openLetter('newer', '1', 30n), openLetter('other-key', '2', 5n), openLetter('unkeyed', '9', 5n)];
    const { supersede } = settleReplay([{ id: 'a', change: written }, { id: 'b', change: notWritten }], { poison: [], touchedKeys: new Set(['1']) }, keyOf, open);
    expect(supersede).toEqual(['older']);
  });

  it('does not count a key as written by a letter that failed again', () => {
    const failed = upsert(1, 20n);
    const { supersede } = settleReplay(
      [{ id: 'a', change: failed }],
      { poison: [{ change: failed, error: new PoisonValueError('v', 'bad', 'fix') }], touchedKeys: new Set(['1']) },
      keyOf,
      [openLetter('older', '1', 5n)],
    );
    expect(supersede).toEqual([]);
  });
});
