import { seededRandom } from '@philotes/faults';
import { HEAD_BYTES, MessageFilter } from './message-filter';

const message = (code: string, body: Buffer): Buffer => {
  const header = Buffer.alloc(5);
  header[0] = code.charCodeAt(0);
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};
const body = (size: number, fill: number) => Buffer.alloc(size, fill);

describe('the replication message filter', () => {
  const SEED = 20261201;
  it.each(Array.from({ length: 25 }, (_, i) => SEED + i))('passes every message under the limit as it came and reports each larger CopyData in its place (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const limit = 100;
    const messages = Array.from({ length: 40 }, (_, i) => {
      const code = random() < 0.8 ? 'd' : pick(random, ['Z', 'C', 'k']);
      const size = random() < 0.25 ? 101 + Math.floor(random() * 400) : Math.floor(random() * 101);
      return { code, body: body(size, i % 250), message: message(code, body(size, i % 250)) };
    });
    const stream = Buffer.concat(messages.map((m) => m.message));
    const passed: Buffer[] = [];
    let passedBytes = 0;
    const reports: Array<{ at: number; bytes: number; head: Buffer }> = [];
    const filter = new MessageFilter(() => limit, (chunk) => {
      passed.push(Buffer.from(chunk));
      passedBytes += chunk.length;
    }, (oversized) => reports.push({ at: passedBytes, ...oversized }));
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * (random() < 0.3 ? 4 : 200));
      filter.push(stream.subarray(at, at + size));
      at += size;
    }
    const dropped = (m: (typeof messages)[number]) => m.code === 'd' && m.body.length > limit;
    expect(Buffer.concat(passed).equals(Buffer.concat(messages.filter((m) => !dropped(m)).map((m) => m.message)))).toBe(true);
    let offset = 0;
    const expected: Array<{ at: number; bytes: number; head: Buffer }> = [];
    for (const m of messages) {
      if (dropped(m)) expected.push({ at: offset, bytes: m.body.length, head: m.body.subarray(0, HEAD_BYTES) });
      else offset += m.message.length;
    }
    expect(reports).toEqual(expected);
  });
});

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}
