import { seededRandom } from '@philotes/faults';
import { civilFromDays, isoDate, isoMonth, isoYear } from './civil-date';

const SEED = Number(process.env.PHILOTES_CIVIL_SEED ?? Date.now() % 1_000_000);
const DATE_LIMIT_DAYS = 100_000_000; // JavaScript's Date range, either side of 1970

describe('civil dates from days since 1970-01-01', () => {
  it(`agrees with Date over its whole range (seed ${SEED}, PHILOTES_CIVIL_SEED replays)`, () => {
    const random = seededRandom(SEED);
    for (let i = 0; i < 20_000; i++) {
      const days = Math.floor((random() * 2 - 1) * DATE_LIMIT_DAYS);
      const date = new Date(days * 86_400_000);
      expect([days, civilFromDays(days)]).toEqual([days, { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() }]);
    }
  });

  it('reaches past Date to the ends of PostgreSQL dates and timestamps (their Julian day limits)', () => {
    const julianEpoch = 2_440_588; // date2j(1970, 1, 1)
    // DATE_END_JULIAN = date2j(5874898, 1, 1); TIMESTAMP_END_JULIAN = date2j(294277, 1, 1).
    expect(isoDate(2_147_483_494 - julianEpoch - 1)).toBe('+5874897-12-31');
    expect(isoDate(109_203_528 - julianEpoch)).toBe('+294277-01-01');
    // The start of PostgreSQL's range, 4714-11-24 BC in ISO years (1 BC is year 0): Julian day 0.
    expect(isoDate(-julianEpoch)).toBe('-4713-11-24');
  });

  it('writes years and months as ISO does', () => {
    expect([isoYear(0), isoYear(999), isoYear(2017), isoYear(12_345), isoYear(-44)]).toEqual(['0000', '0999', '2017', '+12345', '-0044']);
    expect([isoMonth(0), isoMonth(-1), isoMonth(-13)]).toEqual(['1970-01', '1969-12', '1968-12']);
  });
});
