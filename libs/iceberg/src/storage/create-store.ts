import { FileSystemObjectStore } from './filesystem-store';
import { ObjectStore } from './object-store';
import { S3ObjectStore, S3Settings } from './s3-store';

/** The store for a warehouse setting: `s3://bucket/prefix`, or a local directory (or file:// URI). */
export function createObjectStore(warehouse: string, s3: S3Settings): ObjectStore {
  if (/^s3a?:\/\//.test(warehouse)) return new S3ObjectStore(warehouse, s3);
  return new FileSystemObjectStore(warehouse.startsWith('file:') ? new URL(warehouse).pathname : warehouse);
}
