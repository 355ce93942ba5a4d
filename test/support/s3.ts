import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually } from './eventually';
import { testPort } from './ports';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** Keys under a prefix, as the server lists them (ListObjectsV2). */
  keys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * s3rver (from npm) as its own process on loopback: a real S3 HTTP API (signed requests, listing,
 * multi-object delete, ranged reads) with files on local disk.
 */
export async function startS3Server(bucket = 'warehouse'): Promise<S3Server> {
  const port = await testPort();
  const directory = mkdtempSync(join(tmpdir(), 'philotes-s3-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [require.resolve('s3rver/bin/s3rver.js'), '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--configure-bucket', bucket, '--silent'],
    { stdio: 'ignore' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await eventually('the S3 server to answer', async () => (await fetch(`${endpoint}/${bucket}?list-type=2&max-keys=1`).catch(() => undefined))?.ok);
  return {
    endpoint,
    bucket,
    keys: async (prefix) => {
      const xml = await (await fetch(`${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`)).text();
      return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
