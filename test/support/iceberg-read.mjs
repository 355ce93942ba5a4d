// Reads an Iceberg table with icebird (an independent reader from npm) and prints its rows as JSON.
// Runs in a process of its own: icebird is an ES module and reads through global fetch, which is
// given a file:// implementation with Range support here.
// Usage: node iceberg-read.mjs <table location URI> <metadata file URI | "version-hint"> [--files | --reachable]
// With --files it prints {rows, files, manifests}: the live manifest entries too (path, content,
// sequence number, spec id and partition tuple by field name, the manifest listing them), and the
// manifest list's entries (path, content, spec id, partition summaries).
// With --reachable it prints every manifest list, manifest and live file of every snapshot.
// With --manifests it prints the current snapshot's manifests: path and each entry's status and content.
import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { avroMetadata, avroRead, icebergManifests, icebergMetadata, icebergRead } from 'icebird';

const realFetch = globalThis.fetch;
// icebird turns s3://bucket/key into https://bucket.s3.amazonaws.com/key; in tests the bucket lives
// on a loopback S3 server (PHILOTES_TEST_S3_ENDPOINT), path-style.
const s3Endpoint = process.env.PHILOTES_TEST_S3_ENDPOINT;
const toLoopback = (url) => {
  const match = /^https:\/\/([^.]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url) ?? /^s3a?:\/\/([^/]+)\/(.*)$/.exec(url);
  return s3Endpoint && match ? `${s3Endpoint}/${match[1]}/${match[2]}` : undefined;
};
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  const loopback = toLoopback(url);
  if (loopback) return realFetch(loopback, init);
  if (!url.startsWith('file:')) return realFetch(input, init);
  const path = fileURLToPath(url);
  const size = statSync(path).size;
  if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(size) } });
  const range = new Headers(init?.headers).get('range');
  if (!range) return new Response(readFileSync(path), { status: 200, headers: { 'content-length': String(size) } });
  const [, start, end] = /bytes=(\d+)-(\d*)/.exec(range);
  const from = Number(start);
  const to = end === '' ? size - 1 : Math.min(Number(end), size - 1);
  const buffer = Buffer.alloc(to - from + 1);
  const fd = openSync(path, 'r');
  readSync(fd, buffer, 0, buffer.length, from);
  closeSync(fd);
  return new Response(buffer, { status: 206, headers: { 'content-length': String(buffer.length) } });
};

const [tableUrl, metadataUri, mode] = process.argv.slice(2);
const readText = async (uri) => (uri.startsWith('file:') ? readFileSync(fileURLToPath(uri), 'utf8') : await (await globalThis.fetch(uri)).text());
const metadata = metadataUri === 'version-hint' ? await icebergMetadata({ tableUrl }) : JSON.parse(await readText(metadataUri));
if (mode === '--reachable') {
  const reachable = new Set();
  for (const snapshot of metadata.snapshots) {
    reachable.add(snapshot['manifest-list']);
    for (const { url, entries } of await icebergManifests({ ...metadata, 'current-snapshot-id': snapshot['snapshot-id'] })) {
      reachable.add(url);
      for (const entry of entries) if (entry.status !== 2) reachable.add(entry.data_file.file_path);
    }
  }
  process.stdout.write(JSON.stringify([...reachable]));
  process.exit(0);
}
if (mode === '--manifests') {
  const manifests = await icebergManifests(metadata);
  const listed = manifests.map(({ url, entries }) => ({ url, entries: entries.map((e) => ({ status: Number(e.status), content: Number(e.data_file.content ?? 0) })) }));
  process.stdout.write(JSON.stringify(listed));
  process.exit(0);
}
// icebird refuses a table without a snapshot or without data files; such a table is empty.
const hasSnapshot = metadata['current-snapshot-id'] !== undefined && Number(metadata['current-snapshot-id']) >= 0;
const manifests = hasSnapshot ? await icebergManifests(metadata) : [];
const entries = manifests.flatMap((m) => m.entries.map((e) => ({ ...e, manifest: m.url }))).filter((e) => e.status !== 2);
// The manifest list, read with icebird's Avro reader: icebird's manifests do not say their spec id.
const listed = [];
if (hasSnapshot && mode === '--files') {
  const snapshot = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  const buffer = await (await globalThis.fetch(toLoopback(snapshot['manifest-list']) ?? snapshot['manifest-list'])).arrayBuffer();
  const reader = { view: new DataView(buffer), offset: 0 };
  const { metadata: avro, syncMarker } = await avroMetadata(reader);
  for (const record of await avroRead({ reader, metadata: avro, syncMarker })) {
    listed.push({
      path: record.manifest_path,
      content: Number(record.content),
      specId: Number(record.partition_spec_id),
      partitions: record.partitions ?? [],
      // v3 only (field 520); icebird 0.3.1 knows nothing of row lineage, so it is worked out here.
      ...(record.first_row_id !== undefined && record.first_row_id !== null ? { firstRowId: BigInt(record.first_row_id) } : {}),
    });
  }
}
const specOf = new Map(listed.map((m) => [m.path, m.specId]));
// Row lineage (spec, First Row ID Inheritance), as Java's ManifestReader reads it: a live data
// file without first_row_id takes its manifest's plus the record counts of the live data files
// before it that had none; DELETED entries take no part.
const firstRowIdOf = new Map();
for (const manifest of manifests) {
  let next = listed.find((m) => m.path === manifest.url)?.firstRowId;
  for (const entry of manifest.entries) {
    const file = entry.data_file;
    if (Number(file.content ?? 0) !== 0 || Number(entry.status) === 2) continue;
    if (file.first_row_id !== undefined && file.first_row_id !== null) firstRowIdOf.set(file.file_path, BigInt(file.first_row_id));
    else if (next !== undefined) {
      firstRowIdOf.set(file.file_path, next);
      next += BigInt(file.record_count);
    }
  }
}
const hasData = entries.some((e) => !e.data_file.content);
// icebird 0.3.1 reads every delete file as Parquet: a table with deletion vectors (Puffin) it cannot
// read at all, so its rows are left out (and said to be) rather than failing the manifests too.
const vectors = entries.some((e) => String(e.data_file.file_format ?? '').toLowerCase() === 'puffin');
const rows = hasData && !vectors ? await icebergRead({ tableUrl, metadata }) : [];
const files = entries.map((e) => ({
  path: e.data_file.file_path,
  content: Number(e.data_file.content),
  sequenceNumber: Number(e.sequence_number),
  recordCount: Number(e.data_file.record_count),
  ...(e.data_file.equality_ids ? { equalityIds: [...e.data_file.equality_ids].map(Number) } : {}),
  // null (decoded as undefined) for delete files; the table sort order the rows are in otherwise.
  sortOrderId: e.data_file.sort_order_id ?? null,
  manifest: e.manifest,
  ...(specOf.has(e.manifest) ? { specId: specOf.get(e.manifest) } : {}),
  partition: e.data_file.partition ?? {},
  ...(firstRowIdOf.has(e.data_file.file_path) ? { firstRowId: firstRowIdOf.get(e.data_file.file_path) } : {}),
  // Position deletes and deletion vectors: what they refer to and, for a vector, where its blob lies.
  fileFormat: String(e.data_file.file_format ?? 'PARQUET').toLowerCase(),
  ...(e.data_file.referenced_data_file ? { referencedDataFile: e.data_file.referenced_data_file } : {}),
  ...(e.data_file.content_offset !== undefined && e.data_file.content_offset !== null ? { contentOffset: Number(e.data_file.content_offset), contentSizeInBytes: Number(e.data_file.content_size_in_bytes) } : {}),
}));
process.stdout.write(
  JSON.stringify(mode === '--files' ? { rows, files, manifests: listed, ...(vectors ? { rowsUnread: 'deletion vectors' } : {}) } : rows, (_key, value) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
    return value;
  }),
);
