import { BufferedEvent } from './buffered-event';
import { decodeBinaryCopy, encodeBinaryCopy } from './copy-binary';

describe('binary COPY', () => {
  it('decodes what it encodes: positions at their extremes, NULL xid, empty and binary payloads', () => {
    const events: BufferedEvent[] = [
      { tableId: 1, commitLsn: 0xffff_ffff_0000_0001n, seq: -(2 ** 53), op: 'R', xid: null, commitTime: -1n, schemaVersion: 3, payload: Uint8Array.from([0x81, 0xa1, 0x61, 0x90]) },
      { tableId: 2147483647, commitLsn: 1n, seq: 2 ** 53 - 1, op: 'U', xid: 4294967295, commitTime: 789_000_000_000n, schemaVersion: 1, payload: new Uint8Array(0) },
    ];
    const decoded = decodeBinaryCopy(encodeBinaryCopy(events));
    expect(decoded.map((e) => ({ ...e, payload: [...e.payload] }))).toEqual(events.map((e) => ({ ...e, payload: [...e.payload] })));
  });

  it('refuses bytes that are not a binary COPY stream', () => {
    expect(() => decodeBinaryCopy(Buffer.from('not copy at all, really'))).toThrow(/not a binary COPY/);
  });
});
