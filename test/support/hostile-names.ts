import { seededRandom } from '@philotes/faults';

/**
 * Legal PostgreSQL identifiers users really have, and the ones that break naive code: quotes,
 * dots, slashes, `..`, URI characters, spaces, unicode, reserved words, upper case, 63 bytes, and
 * spellings of our own escapes (`~2E`, `%2E`).
 */
export const HOSTILE_NAMES: readonly string[] = [
  'orders',
  'Orders',
  'ORDERS',
  'order',
  'select',
  'user',
  'a.b',
  'a%2Eb',
  'a~2Eb',
  '..',
  '.',
  '../public.db/orders',
  'orders/data',
  'a/b',
  'a#b',
  '100%',
  'what?',
  'with space',
  ' lead',
  'quote"d',
  "it's",
  'back\\slash',
  'tab\tname',
  'é',
  'e\u0301', // the same letter, decomposed: a different name
  '日本語の表',
  '🦆',
  '~',
  '-',
  '_',
  'x'.repeat(63),
  'é'.repeat(31), // 62 bytes
];

const FRAGMENTS = ['a', 'Z', '0', '_', '-', '.', '..', '/', '%', '%2E', '~', '~2E', '#', '?', ' ', '"', "'", 'é', '日', '🦆', 'select', 'orders'];

/** A random legal identifier (1 to 63 bytes of UTF-8) from hostile fragments. */
export function hostileName(random: () => number): string {
  const target = 1 + Math.floor(random() * 20);
  let name = '';
  while (name.length < target) {
    const next = name + FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
    if (Buffer.byteLength(next, 'utf8') > 63) break;
    name = next;
  }
  return name || 'a';
}

/** `count` distinct hostile names, the fixed set first, from a seed (print it: a failure replays with it). */
export function hostileNames(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const names = new Set(HOSTILE_NAMES.slice(0, count));
  while (names.size < count) names.add(hostileName(random));
  return [...names];
}
