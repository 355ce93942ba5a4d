/**
 * What a reader of the catalog and an operator of the buffer would have seen, over time: each
 * table's current snapshot position (`philotes.source-lsn`/`-seq` of the snapshot the catalog points
 * at) and the reader's checkpoint. Polled on its own connection while the benchmark runs.
 */
import { Client } from 'pg';
import { soleCheckpoint } from '@philotes/buffer';
import { createObjectStore, currentSnapshot, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { parseLsn } from '@philotes/pgoutput';
import { CheckpointSeen, SnapshotSeen } from './timeline';

const POLL_MS = 50;
const CATALOG = 'philotes';
const NAMESPACE = 'public';

export class CatalogWatch {
  readonly snapshots: SnapshotSeen[] = [];
  readonly checkpoints: CheckpointSeen[] = [];
  private readonly tables: IcebergTables;
  private readonly locations = new Map<string, string>();
  private stopped = false;
  private loop?: Promise<void>;
  private failure?: unknown;

  constructor(
    private readonly buffer: Client,
    warehouse: string,
    private readonly watched: readonly string[],
  ) {
    this.tables = new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog(CATALOG, buffer));
  }

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error;
    });
  }

  /** Stops polling; rethrows what made the loop fail, if anything did. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.throwIfFailed();
  }

  /** The last position seen for `table`, if any snapshot was; throws once polling has failed. */
  latest(table: string): SnapshotSeen | undefined {
    this.throwIfFailed();
    for (let i = this.snapshots.length - 1; i >= 0; i--) if (this.snapshots[i].table === table) return this.snapshots[i];
    return undefined;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw new Error('watching the catalog failed', { cause: this.failure });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.poll();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async poll(): Promise<void> {
    const { rows } = await this.buffer.query<{ table_name: string; metadata_location: string | null }>(
      'SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = ANY($3)',
      [CATALOG, NAMESPACE, this.watched],
    );
    // The time the answer arrived: the snapshot was visible by then (at most a poll's time later than it became so).
    const atMs = Date.now();
    for (const { table_name: table, metadata_location: location } of rows) {
      if (!location || this.locations.get(table) === location) continue;
      this.locations.set(table, location);
      const summary = currentSnapshot(await this.tables.readMetadata(location))?.summary;
      const lsn = summary?.['philotes.source-lsn'];
      if (lsn) this.snapshots.push({ table, atMs, lsn: parseLsn(lsn), seq: Number(summary['philotes.source-seq'] ?? 0) });
    }
    const checkpoint = await soleCheckpoint(this.buffer);
    const confirmedLsn = checkpoint !== undefined ? parseLsn(checkpoint) : undefined;
    if (confirmedLsn !== undefined && confirmedLsn !== this.checkpoints.at(-1)?.confirmedLsn) this.checkpoints.push({ atMs: Date.now(), confirmedLsn });
  }
}
