import { BufferedEvent } from './buffered-event';
import { decodeWakeUp, encodeWakeUp } from './wake-up';

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
