import { randomUUID } from 'node:crypto';
import { hostileNames } from '../../../test/support/hostile-names';
import { newTableLocation, pathSegment } from './table-location';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? 20261201);

describe('table locations', () => {
  const names = hostileNames(SEED, 400);

  it(`maps every legal name to a plain, distinct path segment (seed ${SEED})`, () => {
    const segments = new Map<string, string>();
    for (const name of names) {
      const segment = pathSegment(name);
      expect(segment).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(segment).not.toMatch(/^\.+$/);
      expect(segments.get(segment) ?? name).toBe(name);
      segments.set(segment, name);
    }
    expect(pathSegment('..')).toBe('~2E~2E');
    expect(pathSegment('a~2Eb')).not.toBe(pathSegment('a.b'));
    expect(pathSegment('orders')).toBe('orders');
  });

  it(`never puts one table's location inside another's, whatever the names (seed ${SEED})`, () => {
    const root = 's3://bucket/warehouse';
    const locations = names.flatMap((schema, i) => [
      newTableLocation(root, { namespace: schema.replace(/\./g, '%2E'), name: names[(i + 1) % names.length] }, randomUUID()),
      newTableLocation(root, { namespace: `src.${schema.replace(/\./g, '%2E')}`, name: schema }, randomUUID()),
    ]);
    const all = new Set(locations);
    expect(all.size).toBe(locations.length);
    for (const location of locations) {
      // No ancestor folder of a location is itself a table's location.
      for (let at = location.indexOf('/', root.length); at !== -1; at = location.indexOf('/', at + 1)) expect(all.has(location.slice(0, at))).toBe(false);
    }
    for (const location of locations) {
      expect(location.startsWith(`${root}/`)).toBe(true);
      expect(location.slice(root.length + 1).split('/').some((part) => part === '..' || part === '.' || part === '')).toBe(false);
    }
  });

  it('keeps the namespace levels as folders and ends in the table UUID', () => {
    expect(newTableLocation('file:///w', { namespace: 'src.public', name: 'orders' }, '0f9d3c1e-7a51-4c35-9a54-2b1f7c1d9e00')).toBe('file:///w/src/public.db/orders-0f9d3c1e7a514c359a542b1f7c1d9e00');
  });
});
