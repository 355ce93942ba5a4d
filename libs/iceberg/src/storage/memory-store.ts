import { ObjectStore, StoredObject } from './object-store';

/**
 * A warehouse in memory, for unit tests of what writes tables: the same contract as the file
 * system and S3 stores (whole objects, absolute URIs, a missing object fails like ENOENT).
 */
export class MemoryObjectStore implements ObjectStore {
  readonly root: string;
  private readonly objects = new Map<string, { readonly bytes: Uint8Array; readonly modified: Date }>();

  constructor(root = 'memory://warehouse') {
    this.root = root.replace(/\/$/, '');
  }

  async put(uri: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(this.checked(uri), { bytes: Uint8Array.from(bytes), modified: new Date() });
  }

  async get(uri: string): Promise<Uint8Array> {
    const found = this.objects.get(this.checked(uri));
    if (!found) throw Object.assign(new Error(`ENOENT: no such object, ${uri}`), { code: 'ENOENT' });
    return Uint8Array.from(found.bytes);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const under = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const [uri, object] of [...this.objects].sort(([a], [b]) => a.localeCompare(b))) {
      if (uri.startsWith(under)) yield { uri, size: object.bytes.length, modified: object.modified };
    }
  }

  async delete(uris: readonly string[]): Promise<void> {
    for (const uri of uris) this.objects.delete(uri);
  }

  /** Every object URI stored, sorted. */
  get uris(): string[] {
    return [...this.objects.keys()].sort();
  }

  private checked(uri: string): string {
    if (!uri.startsWith(`${this.root}/`)) throw new Error(`${uri} is outside the warehouse ${this.root}`);
    return uri;
  }
}
