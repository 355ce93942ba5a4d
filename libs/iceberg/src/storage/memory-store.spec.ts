import { MemoryObjectStore } from './memory-store';

describe('MemoryObjectStore', () => {
  it('keeps whole copies, lists by prefix in order, deletes, and fails a missing object like ENOENT', async () => {
    const store = new MemoryObjectStore('memory://w/');
    const bytes = Uint8Array.from([1, 2, 3]);
    await store.put('memory://w/db/t/data/b.parquet', bytes);
    await store.put('memory://w/db/t/data/a.parquet', Uint8Array.from([9]));
    await store.put('memory://w/db/tt/x', Uint8Array.from([7]));
    bytes[0] = 42;
    expect([...(await store.get('memory://w/db/t/data/b.parquet'))]).toEqual([1, 2, 3]);
    const listed: string[] = [];
    for await (const object of store.list('memory://w/db/t')) listed.push(`${object.uri}:${object.size}`);
    expect(listed).toEqual(['memory://w/db/t/data/a.parquet:1', 'memory://w/db/t/data/b.parquet:3']);
    await store.delete(['memory://w/db/t/data/a.parquet']);
    await expect(store.get('memory://w/db/t/data/a.parquet')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.put('s3://elsewhere/x', bytes)).rejects.toThrow(/outside the warehouse/);
    expect(store.uris).toEqual(['memory://w/db/t/data/b.parquet', 'memory://w/db/tt/x']);
  });
});
