/**
 * Sets of row positions in the Roaring "portable" 64-bit serialization (RoaringFormatSpec,
 * "Extension for 64-bit implementations"), the vector of an Iceberg deletion vector: a count of
 * 32-bit bitmaps (8 bytes LE), then per bitmap its key (the high 32 bits, 4 bytes LE) and a
 * standard 32-bit Roaring bitmap of the low 32 bits. All words little-endian.
 *
 * Positions are JS numbers: a data file's rows are counted far below 2^53.
 */

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
/** An array container holds at most this many values; above, a bitset (RoaringFormatSpec). */
const ARRAY_MAX = 4096;
const BITSET_BYTES = 8192;
const TWO_32 = 2 ** 32;

type Container = { readonly kind: 'array'; readonly values: readonly number[] } | { readonly kind: 'bitset'; readonly values: readonly number[] } | { readonly kind: 'run'; readonly runs: ReadonlyArray<readonly [number, number]>; readonly cardinality: number };

/** The serialized set of `positions` (any order, repeats ignored; each a whole number in [0, 2^53)). */
export function serializeRoaring64(positions: Iterable<number>): Uint8Array {
  const byKey = new Map<number, number[]>();
  for (const position of positions) {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`a position must be a whole number in [0, 2^53): ${position}`);
    const key = Math.floor(position / TWO_32);
    let low = byKey.get(key);
    if (!low) byKey.set(key, (low = []));
    low.push(position % TWO_32);
  }
  const keys = [...byKey.keys()].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  const count = new Uint8Array(8);
  new DataView(count.buffer).setBigUint64(0, BigInt(keys.length), true);
  parts.push(count);
  for (const key of keys) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, key, true);
    parts.push(head, serializeRoaring32(byKey.get(key)!));
  }
  return concat(parts);
}

/** The positions of a serialized set, ascending. Throws on a malformed serialization. */
export function deserializeRoaring64(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getBigUint64(0, true);
  let offset = 8;
  const positions: number[] = [];
  let previousKey = -1;
  for (let i = 0n; i < count; i++) {
    const key = view.getUint32(offset, true);
    if (key <= previousKey) throw new Error('roaring64: keys must ascend');
    previousKey = key;
    offset += 4;
    const { values, length } = deserializeRoaring32(bytes.subarray(offset));
    for (const low of values) positions.push(key * TWO_32 + low);
    offset += length;
  }
  if (offset !== bytes.length) throw new Error(`roaring64: ${bytes.length - offset} bytes after the last bitmap`);
  return positions;
}

/** A standard 32-bit Roaring bitmap of `values` (each in [0, 2^32)), each container the smallest of array, bitset and runs. */
export function serializeRoaring32(values: readonly number[]): Uint8Array {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const containers: Array<{ key: number; container: Container }> = [];
  for (let start = 0; start < sorted.length; ) {
    const key = sorted[start] >>> 16;
    let end = start;
    while (end < sorted.length && sorted[end] >>> 16 === key) end++;
    containers.push({ key, container: smallest(sorted.slice(start, end).map((v) => v & 0xffff)) });
    start = end;
  }
  const hasRuns = containers.some((c) => c.container.kind === 'run');
  const size = containers.length;
  const runBitsetBytes = hasRuns ? Math.ceil(size / 8) : 0;
  const withOffsets = !hasRuns || size >= NO_OFFSET_THRESHOLD;
  const headerBytes = (hasRuns ? 4 + runBitsetBytes : 8) + 4 * size + (withOffsets ? 4 * size : 0);
  const bodies = containers.map((c) => containerBytes(c.container));
  const out = new Uint8Array(headerBytes + bodies.reduce((n, b) => n + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  if (hasRuns) {
    view.setUint32(at, (SERIAL_COOKIE | ((size - 1) << 16)) >>> 0, true);
    at += 4;
    containers.forEach((c, i) => {
      if (c.container.kind === 'run') out[at + (i >> 3)] |= 1 << (i & 7);
    });
    at += runBitsetBytes;
  } else {
    view.setUint32(at, SERIAL_COOKIE_NO_RUNCONTAINER, true);
    view.setUint32(at + 4, size, true);
    at += 8;
  }
  for (const c of containers) {
    view.setUint16(at, c.key, true);
    view.setUint16(at + 2, cardinalityOf(c.container) - 1, true);
    at += 4;
  }
  if (withOffsets) {
    let bodyAt = headerBytes;
    for (const body of bodies) {
      view.setUint32(at, bodyAt, true);
      at += 4;
      bodyAt += body.length;
    }
  }
  for (const body of bodies) {
    out.set(body, at);
    at += body.length;
  }
  return out;
}

/** The values of a standard 32-bit Roaring bitmap at the start of `bytes`, ascending, and how many bytes it took. */
export function deserializeRoaring32(bytes: Uint8Array): { values: number[]; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cookie = view.getUint32(0, true);
  let size: number;
  let at: number;
  let runs: Uint8Array | undefined;
  if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    size = view.getUint32(4, true);
    at = 8;
  } else if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    runs = bytes.subarray(4, 4 + Math.ceil(size / 8));
    at = 4 + runs.length;
  } else {
    throw new Error(`roaring32: unknown cookie ${cookie}`);
  }
  const described: Array<{ key: number; cardinality: number; run: boolean }> = [];
  for (let i = 0; i < size; i++) {
    described.push({ key: view.getUint16(at, true), cardinality: view.getUint16(at + 2, true) + 1, run: runs ? (runs[i >> 3] & (1 << (i & 7))) !== 0 : false });
    at += 4;
  }
  // Offsets, when present, are not needed to read the containers in order.
  if (!runs || size >= NO_OFFSET_THRESHOLD) at += 4 * size;
  const values: number[] = [];
  let previousKey = -1;
  for (const { key, cardinality, run } of described) {
    if (key <= previousKey) throw new Error('roaring32: container keys must ascend');
    previousKey = key;
    const high = key * 0x10000;
    if (run) {
      const count = view.getUint16(at, true);
      at += 2;
      let seen = 0;
      for (let r = 0; r < count; r++) {
        const start = view.getUint16(at, true);
        const length = view.getUint16(at + 2, true);
        at += 4;
        for (let v = start; v <= start + length; v++) values.push(high + v);
        seen += length + 1;
      }
      if (seen !== cardinality) throw new Error(`roaring32: a run container of ${seen} values says ${cardinality}`);
    } else if (cardinality <= ARRAY_MAX) {
      for (let j = 0; j < cardinality; j++) values.push(high + view.getUint16(at + 2 * j, true));
      at += 2 * cardinality;
    } else {
      let seen = 0;
      for (let word = 0; word < BITSET_BYTES / 4; word++) {
        const bits = view.getUint32(at + 4 * word, true);
        for (let bit = 0; bit < 32; bit++) {
          if (bits & (1 << bit)) {
            values.push(high + word * 32 + bit);
            seen++;
          }
        }
      }
      at += BITSET_BYTES;
      if (seen !== cardinality) throw new Error(`roaring32: a bitset of ${seen} values says ${cardinality}`);
    }
  }
  return { values, length: at };
}

/** The smallest container of sorted 16-bit `lows` (Java's runOptimize chooses alike). */
function smallest(lows: readonly number[]): Container {
  const runs: Array<[number, number]> = [];
  for (const v of lows) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] + 1 === v) last[1]++;
    else runs.push([v, 0]);
  }
  const asArray = lows.length <= ARRAY_MAX ? 2 * lows.length : Infinity;
  const asBitset = lows.length > ARRAY_MAX ? BITSET_BYTES : Infinity;
  const asRuns = 2 + 4 * runs.length;
  if (asRuns < Math.min(asArray, asBitset)) return { kind: 'run', runs, cardinality: lows.length };
  return asArray <= asBitset ? { kind: 'array', values: lows } : { kind: 'bitset', values: lows };
}

function cardinalityOf(container: Container): number {
  return container.kind === 'run' ? container.cardinality : container.values.length;
}

function containerBytes(container: Container): Uint8Array {
  if (container.kind === 'array') {
    const out = new Uint8Array(2 * container.values.length);
    const view = new DataView(out.buffer);
    container.values.forEach((v, i) => view.setUint16(2 * i, v, true));
    return out;
  }
  if (container.kind === 'bitset') {
    const out = new Uint8Array(BITSET_BYTES);
    for (const v of container.values) out[v >> 3] |= 1 << (v & 7);
    return out;
  }
  const out = new Uint8Array(2 + 4 * container.runs.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, container.runs.length, true);
  container.runs.forEach(([start, length], i) => {
    view.setUint16(2 + 4 * i, start, true);
    view.setUint16(4 + 4 * i, length, true);
  });
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
