import { ObjectStore, StoredObject } from './object-store';

export type StoreOperation = 'put' | 'get' | 'list' | 'delete';

/** One request to the store as it ended: bytes moved (put, get), objects listed or deleted. */
export interface StoreRequest {
  readonly operation: StoreOperation;
  readonly outcome: 'ok' | 'error';
  readonly seconds: number;
  readonly bytes?: number;
  readonly objects?: number;
}

/**
 * The object store, measured: each request's operation, outcome and time reach `record` (the
 * writer's metrics), so no caller times or counts storage itself. A listing counts once, when it
 * ends or fails; what it yields counts as objects.
 */
export function measuredStore(store: ObjectStore, record: (request: StoreRequest) => void): ObjectStore {
  const timed = async <T>(operation: StoreOperation, work: () => Promise<T>, sizes: (result: T) => Pick<StoreRequest, 'bytes' | 'objects'>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await work();
      record({ operation, outcome: 'ok', seconds: (performance.now() - started) / 1000, ...sizes(result) });
      return result;
    } catch (error) {
      record({ operation, outcome: 'error', seconds: (performance.now() - started) / 1000 });
      throw error;
    }
  };
  return {
    root: store.root,
    put: (uri, bytes) => timed('put', () => store.put(uri, bytes), () => ({ bytes: bytes.length })),
    get: (uri) => timed('get', () => store.get(uri), (bytes) => ({ bytes: bytes.length })),
    delete: (uris) => timed('delete', () => store.delete(uris), () => ({ objects: uris.length })),
    list: (prefix) => measuredListing(store.list(prefix), record),
  };
}

async function* measuredListing(listing: AsyncIterable<StoredObject>, record: (request: StoreRequest) => void): AsyncIterable<StoredObject> {
  const started = performance.now();
  let objects = 0;
  let failed = false;
  try {
    for await (const object of listing) {
      objects++;
      yield object;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // A caller that stops early ends the listing well; only a throw from the store is an error.
    record({ operation: 'list', outcome: failed ? 'error' : 'ok', seconds: (performance.now() - started) / 1000, objects });
  }
}
