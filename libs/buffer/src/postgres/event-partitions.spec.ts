import { PARTITIONS_AHEAD, partitionName, wantedPartitions } from './event-partitions';

describe('cdc_events partitions', () => {
  it('are made for the intervals after now, never the one under way, aligned to the interval', () => {
    const day = 86_400_000;
    const wanted = wantedPartitions(new Date('2026-12-01T15:37:12Z'), day);
    expect(wanted).toHaveLength(PARTITIONS_AHEAD);
    expect(wanted.map((p) => [p.name, p.from.toISOString(), p.to.toISOString()])).toEqual([
      ['cdc_events_p20261202t000000', '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
      ['cdc_events_p20261203t000000', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
      ['cdc_events_p20261204t000000', '2026-12-04T00:00:00.000Z', '2026-12-05T00:00:00.000Z'],
    ]);
  });

  it('follow on one another without gaps at any interval', () => {
    const wanted = wantedPartitions(new Date('2026-12-01T15:37:12.5Z'), 2_000);
    expect(wanted[0].from.toISOString()).toBe('2026-12-01T15:37:14.000Z');
    for (let i = 1; i < wanted.length; i++) expect(wanted[i].from).toEqual(wanted[i - 1].to);
    expect(partitionName(new Date('2026-12-01T15:37:14Z'))).toBe('cdc_events_p20261201t153714');
  });
});
