import { measuredStore, StoreRequest } from './measured-store';
import { MemoryObjectStore } from './memory-store';

describe('measuredStore', () => {
  const root = 'memory://warehouse';
  const setUp = () => {
    const inner = new MemoryObjectStore(root);
    const requests: StoreRequest[] = [];
    return { inner, requests, store: measuredStore(inner, (request) => requests.push(request)) };
  };
  const shape = (requests: StoreRequest[]) => requests.map(({ seconds: _seconds, ...rest }) => rest);

  it('records every request with its operation, outcome and size, and changes nothing it passes on', async () => {
    const { inner, requests, store } = setUp();
    expect(store.root).toBe(root);
    await store.put(`${root}/t/a`, new Uint8Array(5));
    await store.put(`${root}/t/b`, new Uint8Array(3));
    expect((await store.get(`${root}/t/a`)).length).toBe(5);
    const listed: string[] = [];
    for await (const object of store.list(`${root}/t`)) listed.push(object.uri);
    await store.delete([`${root}/t/a`]);
    expect(listed).toEqual([`${root}/t/a`, `${root}/t/b`]);
    expect(inner.uris).toEqual([`${root}/t/b`]);
    expect(shape(requests)).toEqual([
      { operation: 'put', outcome: 'ok', bytes: 5 },
      { operation: 'put', outcome: 'ok', bytes: 3 },
      { operation: 'get', outcome: 'ok', bytes: 5 },
      { operation: 'list', outcome: 'ok', objects: 2 },
      { operation: 'delete', outcome: 'ok', objects: 1 },
    ]);
    expect(requests.every((r) => r.seconds >= 0)).toBe(true);
  });

  it('records a failed request as an error and rethrows it as it was', async () => {
    const { requests, store } = setUp();
    await expect(store.get(`${root}/missing`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(shape(requests)).toEqual([{ operation: 'get', outcome: 'error' }]);
  });

  it('a listing the caller leaves early is one ok request; one the store breaks is an error', async () => {
    const { inner, requests, store } = setUp();
    await inner.put(`${root}/t/a`, new Uint8Array(1));
    await inner.put(`${root}/t/b`, new Uint8Array(1));
    for await (const _object of store.list(`${root}/t`)) break;
    const broken = measuredStore(
      {
        root,
        put: (uri, bytes) => inner.put(uri, bytes),
        get: (uri) => inner.get(uri),
        delete: (uris) => inner.delete(uris),
        list: async function* () {
          yield { uri: `${root}/t/a`, size: 1, modified: new Date(0) };
          throw new Error('SlowDown');
        },
      },
      (request) => requests.push(request),
    );
    await expect(
      (async () => {
        for await (const _object of broken.list(`${root}/t`)) void _object;
      })(),
    ).rejects.toThrow('SlowDown');
    expect(shape(requests)).toEqual([
      { operation: 'list', outcome: 'ok', objects: 1 },
      { operation: 'list', outcome: 'error', objects: 1 },
    ]);
  });
});
