import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectStore, StoredObject } from './object-store';

export interface S3Settings {
  /** Empty for AWS; the URL of an S3-compatible server (MinIO, Ceph, ...) otherwise. */
  readonly endpoint?: string;
  readonly region: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Path-style URLs (bucket in the path), which most S3-compatible servers need. */
  readonly forcePathStyle: boolean;
}

/** A warehouse in an S3 bucket (`s3://bucket/prefix`). */
export class S3ObjectStore implements ObjectStore {
  readonly root: string;
  private readonly client: S3Client;

  constructor(warehouse: string, settings: S3Settings) {
    this.root = warehouse.replace(/\/$/, '');
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // Checksums only where S3 requires them: several S3-compatible servers reject the
      // trailing-checksum uploads the SDK otherwise sends by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId && settings.secretAccessKey ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } } : {}),
    });
  }

  async put(uri: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = locate(uri);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  }

  async get(uri: string): Promise<Uint8Array> {
    const { bucket, key } = locate(uri);
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`empty object ${uri}`);
    return response.Body.transformToByteArray();
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const { bucket, key } = locate(prefix.endsWith('/') ? prefix : `${prefix}/`);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { uri: `s3://${bucket}/${object.Key}`, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(uris: readonly string[]): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const uri of uris) {
      const { bucket, key } = locate(uri);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), key]);
    }
    for (const [bucket, keys] of byBucket) {
      for (let i = 0; i < keys.length; i += 1000) {
        await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

function locate(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}
