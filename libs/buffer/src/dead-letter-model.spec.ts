import { DEAD_LETTER_MOVES, DEAD_LETTER_STATUSES, DeadLetterMoveName, DeadLetterStatus, mayMove, OPEN_STATUSES, REFUSAL, SETTLED_STATUSES } from './dead-letter-model';

const moves = Object.entries(DEAD_LETTER_MOVES) as Array<[DeadLetterMoveName, (typeof DEAD_LETTER_MOVES)[DeadLetterMoveName]]>;

describe('the dead-letter model', () => {
  it('splits the statuses into open and settled, each once', () => {
    expect([...OPEN_STATUSES, ...SETTLED_STATUSES].sort()).toEqual([...DEAD_LETTER_STATUSES].sort());
    expect(OPEN_STATUSES).toEqual(['pending', 'replaying']);
  });

  it('reaches every status from a letter being born', () => {
    const reached = new Set<DeadLetterStatus>(moves.filter(([, m]) => m.from.length === 0).map(([, m]) => m.to));
    for (let grew = true; grew; ) {
      grew = false;
      for (const [, move] of moves) {
        if (!reached.has(move.to) && move.from.some((s: DeadLetterStatus) => reached.has(s))) {
          reached.add(move.to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...DEAD_LETTER_STATUSES].sort());
  });

  it('lets an operator replay only pending letters and discard only pending or superseded ones', () => {
    const table = DEAD_LETTER_STATUSES.map((status) => [status, mayMove('requestReplay', status), mayMove('discard', status)]);
    expect(table).toEqual([
      ['pending', true, true],
      ['replaying', false, false],
      ['replayed', false, false],
      ['discarded', false, false],
      ['superseded', false, true],
    ]);
  });

  it('settles a replay only from replaying, and never moves a settled letter but to discard a superseded one', () => {
    for (const name of ['replayed', 'replaySuperseded', 'replayFailed'] as const) expect(DEAD_LETTER_MOVES[name].from).toEqual(['replaying']);
    for (const [name, move] of moves) {
      const settledFrom = move.from.filter((s: DeadLetterStatus) => SETTLED_STATUSES.includes(s));
      expect([name, settledFrom]).toEqual([name, name === 'discard' ? ['superseded'] : []]);
    }
  });

  it('explains every refusal', () => {
    for (const status of DEAD_LETTER_STATUSES) expect(REFUSAL[status].length).toBeGreaterThan(5);
  });
});
