import { FileSystemObjectStore } from './filesystem-store';
import { ObjectStore } from './object-store';
import { S3ObjectStore, S3Settings } from './s3-store';

/** The store for a warehouse setting: `s3://bucket/prefix`, or a local directory (or file:// URI). */
export function createObjectStore(warehouse: string, s3: S3Settings): ObjectStore {
  if (/^s3a?:\/\//.test(warehouse)) return new S3ObjectStore(warehouse, s3);
  return new FileSystemObjectStore(warehouse.startsWith('file:') ? new URL(warehouse).pathname : warehouse);
}

/** The warehouse settings as the apps' configuration names them (structurally; no config import here). */
export interface WarehouseSettings {
  readonly icebergWarehouse: string;
  readonly icebergS3Endpoint?: string;
  readonly icebergS3Region: string;
  readonly icebergS3AccessKeyId?: string;
  readonly icebergS3SecretAccessKey?: string;
  readonly icebergS3PathStyle: boolean;
}

/** The store `PHILOTES_ICEBERG_WAREHOUSE` and `PHILOTES_ICEBERG_S3_*` describe. */
export function warehouseStore(s: WarehouseSettings): ObjectStore {
  return createObjectStore(s.icebergWarehouse, {
    ...(s.icebergS3Endpoint ? { endpoint: s.icebergS3Endpoint } : {}),
    region: s.icebergS3Region,
    ...(s.icebergS3AccessKeyId ? { accessKeyId: s.icebergS3AccessKeyId } : {}),
    ...(s.icebergS3SecretAccessKey ? { secretAccessKey: s.icebergS3SecretAccessKey } : {}),
    forcePathStyle: s.icebergS3PathStyle,
  });
}
