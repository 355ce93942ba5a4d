import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ObjectStore, StoredObject } from './object-store';

/** A warehouse in a local directory. Objects are written to a temporary name and renamed into place. */
export class FileSystemObjectStore implements ObjectStore {
  readonly root: string;

  constructor(directory: string) {
    this.root = pathToFileURL(resolve(directory)).href.replace(/\/$/, '');
  }

  async put(uri: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(uri);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }

  async get(uri: string): Promise<Uint8Array> {
    return readFile(this.path(uri));
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const walk = async function* (directory: string): AsyncIterable<StoredObject> {
      let entries;
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(directory, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (entry.isFile()) {
          const info = await stat(full);
          yield { uri: pathToFileURL(full).href, size: info.size, modified: info.mtime };
        }
      }
    };
    yield* walk(this.path(prefix));
  }

  async delete(uris: readonly string[]): Promise<void> {
    await Promise.all(uris.map((uri) => rm(this.path(uri), { force: true })));
  }

  private path(uri: string): string {
    if (!uri.startsWith('file:')) throw new Error(`not a file URI: ${uri}`);
    return fileURLToPath(uri);
  }
}
