import { controlNoticeSource, encodeControlNotice, encodeTableNotices } from './source-controls';

describe('control notices', () => {
  it('name the source', () => {
    expect(encodeControlNotice('orders-db')).toBe('{"s":"orders-db"}');
    expect(controlNoticeSource(encodeControlNotice('orders-db'))).toBe('orders-db');
  });

  it('still name the source when they also list tables (replays for the writers)', () => {
    expect(controlNoticeSource('{"s":"orders-db","t":[3,4]}')).toBe('orders-db');
  });

  it('name nothing when this version cannot read them', () => {
    expect([undefined, '', 'not json', '{"t":[1]}', '{"s":7}', '"s"'].map(controlNoticeSource)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('list the tables of a replay in as many notices as the NOTIFY payload limit takes, each table once', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => 1_000_000 + i);
    const notices = encodeTableNotices('orders-db', ids);
    expect(notices.length).toBeGreaterThan(1);
    for (const notice of notices) expect(Buffer.byteLength(notice)).toBeLessThan(8_000);
    expect(notices.flatMap((n) => (JSON.parse(n) as { t: number[] }).t)).toEqual(ids);
    expect(notices.map(controlNoticeSource)).toEqual(notices.map(() => 'orders-db'));
    expect(encodeTableNotices('s', [7])).toEqual(['{"s":"s","t":[7]}']);
  });
});
