import { BufferedEvent } from './buffered-event';
import { controlNoticeSource, controlTables, decodeWakeUp, encodeControlNotice, encodeTableNotices, encodeWakeUp } from './notices';

const event = (tableId: number, bytes: number): BufferedEvent => ({
  tableId,
  commitLsn: 1n,
  seq: 0,
  op: 'I',
  xid: 1,
  commitTime: 0n,
  schemaVersion: 1,
  payload: new Uint8Array(bytes),
});

describe('wake-up messages', () => {
  it('carries events and bytes per table', () => {
    const decoded = decodeWakeUp(encodeWakeUp('src', [event(1, 10), event(2, 5), event(1, 7)]));
    expect(decoded?.source).toBe('src');
    expect([...(decoded?.tables ?? [])]).toEqual([
      [1, { events: 2, bytes: 17 }],
      [2, { events: 1, bytes: 5 }],
    ]);
  });

  it('names only the source when the tables would not fit a NOTIFY payload', () => {
    const many = Array.from({ length: 2_000 }, (_, i) => event(i + 1, 100));
    const payload = encodeWakeUp('src', many);
    expect(payload.length).toBeLessThan(8_000);
    expect(decodeWakeUp(payload)).toEqual({ source: 'src' });
  });

  it('names only the source for a wake-up without events', () => {
    expect(decodeWakeUp(encodeWakeUp('src'))).toEqual({ source: 'src' });
  });

  it('ignores payloads it does not understand', () => {
    expect(decodeWakeUp('plain-source-id')).toBeUndefined();
    expect(decodeWakeUp('{"t":[]}')).toBeUndefined();
    expect(decodeWakeUp(undefined)).toBeUndefined();
  });
});

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

describe('replay notices', () => {
  it('list the tables whose dead letters were queued, and nothing for other payloads', () => {
    expect(controlTables('{"s":"s","t":[3,4]}')).toEqual([3, 4]);
    expect([undefined, '', 'nope', '{"s":"s"}', '{"t":"x"}'].map(controlTables)).toEqual([[], [], [], [], []]);
    expect(controlTables('{"t":[1,1.5,"2",3]}')).toEqual([1, 3]);
  });
});
