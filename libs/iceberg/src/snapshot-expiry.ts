import { fileURLToPath } from 'node:url';
import { EntryStatus, readManifest, readManifestList } from './manifest';
import { currentSnapshot, metadataVersion, SnapshotId, TableMetadata } from './metadata';
import { ObjectStore } from './storage/object-store';

/** Snapshots kept whatever their age: the current one and this many before it. */
export const KEEP_LAST_SNAPSHOTS = 5;

/**
 * The snapshots to expire: older than the retention, except the current one and the last few
 * (time travel to just before a bad commit; recovery needs only the current one, whose summary
 * holds the source position).
 */
export function snapshotsToExpire(metadata: TableMetadata, now: number, retentionMs: number): Set<SnapshotId> {
  const current = currentSnapshot(metadata)?.['snapshot-id'];
  const newestFirst = [...metadata.snapshots].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms']);
  const kept = new Set(newestFirst.slice(0, KEEP_LAST_SNAPSHOTS + 1).map((s) => s['snapshot-id']));
  return new Set(
    newestFirst.filter((s) => s['snapshot-id'] !== current && !kept.has(s['snapshot-id']) && now - s['timestamp-ms'] > retentionMs).map((s) => s['snapshot-id']),
  );
}

/**
 * Every file the table's metadata still reaches: metadata files (current, logged, their
 * vN.metadata.json copies and version-hint.text), and for every snapshot its manifest list,
 * manifests and live data and delete files. Paths are normalised (see `objectKey`).
 */
export async function reachableFiles(store: ObjectStore, metadataLocation: string, metadata: TableMetadata): Promise<Set<string>> {
  const reachable = new Set<string>();
  const add = (uri: string) => reachable.add(objectKey(uri));
  const metadataFiles = [metadataLocation, ...metadata['metadata-log'].map((entry) => entry['metadata-file'])];
  for (const file of metadataFiles) {
    add(file);
    add(`${metadata.location}/metadata/v${metadataVersion(file)}.metadata.json`);
  }
  add(`${metadata.location}/metadata/version-hint.text`);
  const manifestsSeen = new Set<string>();
  for (const snapshot of metadata.snapshots) {
    add(snapshot['manifest-list']);
    for (const manifest of readManifestList(await store.get(snapshot['manifest-list']))) {
      add(manifest.path);
      if (manifestsSeen.has(manifest.path)) continue;
      manifestsSeen.add(manifest.path);
      for (const entry of readManifest(await store.get(manifest.path), manifest)) {
        if (entry.status !== EntryStatus.Deleted) add(entry.dataFile.filePath);
      }
    }
  }
  return reachable;
}

/**
 * Files under the table's location that nothing reaches and that are older than `graceMs` (a
 * commit in flight writes its files before it is published). Only where this table's files go:
 * direct children of its metadata/ folder, and files of its data/ folder or of partition folders
 * under it (every folder `name=value`, as partitionPath writes them; the names are URL-encoded,
 * so the '=' is that one). Anything else belongs to something else — a table of an older release
 * whose unencoded name put its folder inside this one (`orders/data`, whose own files sit under
 * its data/ or metadata/, folders with no '=') — and is never touched.
 */
export async function orphanFiles(store: ObjectStore, location: string, reachable: ReadonlySet<string>, now: number, graceMs: number): Promise<string[]> {
  const orphans: string[] = [];
  const within = [`${objectKey(location)}/data/`, `${objectKey(location)}/metadata/`];
  for await (const object of store.list(location)) {
    const key = objectKey(object.uri);
    const folder = within.find((prefix) => key.startsWith(prefix));
    if (folder === undefined || reachable.has(key)) continue;
    const folders = key.slice(folder.length).split('/').slice(0, -1);
    if (folders.length > 0 && (folder.endsWith('/metadata/') || !folders.every((f) => f.includes('=')))) continue;
    if (now - object.modified.getTime() > graceMs) orphans.push(object.uri);
  }
  return orphans;
}

/** One spelling per object: a file URI as its path (percent-encoding undone), others as they are. */
export function objectKey(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}
