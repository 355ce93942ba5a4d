import { hostileNames } from '../../../test/support/hostile-names';
import { icebergIdentifier, legacyIdentifier, ownershipProblem, sourceProperties } from './table-identity';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? 20261201);

describe('Iceberg table identity', () => {
  const names = hostileNames(SEED, 120);
  const key = (id: { namespace: string; name: string }) => JSON.stringify([id.namespace.split('.'), id.name]);

  it(`maps (source, schema, table) to one identifier each, for every template with {source} and {schema} (seed ${SEED})`, () => {
    for (const template of ['{source}.{schema}', 'lake.{source}.{schema}', '{schema}.{source}']) {
      const seen = new Map<string, string>();
      for (const sourceId of ['a', 'b']) {
        for (const schema of names.slice(0, 30)) {
          for (const table of names.slice(0, 30)) {
            const id = icebergIdentifier(template, { sourceId, schema, table });
            const ref = JSON.stringify([sourceId, schema, table]);
            expect(seen.get(key(id)) ?? ref).toBe(ref);
            seen.set(key(id), ref);
          }
        }
      }
    }
  });

  it('keeps one source apart by schema with the default template, a dotted schema staying one level', () => {
    expect(icebergIdentifier('{schema}', { sourceId: 's', schema: 'public', table: 'orders' })).toEqual({ namespace: 'public', name: 'orders' });
    expect(icebergIdentifier('{schema}', { sourceId: 's', schema: 'a.b', table: 'c' })).toEqual({ namespace: 'a%2Eb', name: 'c' });
    expect(icebergIdentifier('{schema}', { sourceId: 's', schema: 'a%2Eb', table: 'c' })).toEqual({ namespace: 'a%252Eb', name: 'c' });
    expect(icebergIdentifier('', { sourceId: 's', schema: 'public', table: 'orders' })).toEqual({ namespace: 'public', name: 'orders' });
    expect(icebergIdentifier('{source}_{schema}', { sourceId: 'crm', schema: 'public', table: 'Orders' })).toEqual({ namespace: 'crm_public', name: 'Orders' });
  });

  it('finds the tables of earlier releases, which kept a dotted schema as it is, under the default template only', () => {
    expect(legacyIdentifier('{schema}', { sourceId: 's', schema: 'a.b', table: 'c' })).toEqual({ namespace: 'a.b', name: 'c' });
    expect(legacyIdentifier('{schema}', { sourceId: 's', schema: 'public', table: 'c' })).toBeUndefined();
    expect(legacyIdentifier('{source}.{schema}', { sourceId: 's', schema: 'a.b', table: 'c' })).toBeUndefined();
  });

  it('lets a table be written only by the source table its properties name', () => {
    const ref = { sourceId: 'crm', schema: 'public', table: 'orders' };
    expect(ownershipProblem({ properties: sourceProperties(ref) }, ref)).toBeUndefined();
    expect(ownershipProblem({ properties: sourceProperties({ ...ref, sourceId: 'billing' }) }, ref)).toBe('it mirrors "public"."orders" of source "billing"');
    expect(ownershipProblem({ properties: sourceProperties({ ...ref, schema: 'archive' }) }, ref)).toBe('it mirrors "archive"."orders" of source "crm"');
    expect(ownershipProblem({ properties: {} }, ref)).toMatch(/name no source table/);
    // Tables of earlier releases: the source and schema.table in one property.
    expect(ownershipProblem({ properties: { 'philotes.source': 'crm', 'philotes.source-table': 'public.orders' } }, ref)).toBeUndefined();
    expect(ownershipProblem({ properties: { 'philotes.source': 'billing', 'philotes.source-table': 'public.orders' } }, ref)).toBe('it mirrors public.orders of source "billing"');
  });
});
