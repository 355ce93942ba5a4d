import { BufferedEvent, Checkpoint } from '../buffered-event';
import { Checkpointer, EventStore, RelationSchema, SchemaStore } from '../ports';

/**
 * The buffer database in memory, for unit tests of the orchestrators: the reader's ports
 * (Checkpointer, EventStore, SchemaStore) over one shared state, with the same contracts as the
 * Postgres stores (a commit stores its events and checkpoint together or not at all; an idle
 * advance refuses while part of a transaction is stored). `failNextCommit` makes the next commit
 * throw before anything is stored, as a lost connection would.
 */
export class MemoryBuffer {
  readonly checkpoints = new Map<string, Checkpoint & { readonly slot: string; readonly resyncRequested?: boolean }>();
  readonly events: BufferedEvent[] = [];
  /** Every commit, in order: what each stored. */
  readonly commits: Array<{ readonly sourceId: string; readonly events: readonly BufferedEvent[]; readonly checkpoint: Checkpoint }> = [];
  readonly tables = new Map<string, number>();
  readonly versions = new Map<number, Array<{ readonly schema: RelationSchema; readonly firstLsn: bigint }>>();
  failNextCommit?: Error;

  readonly checkpointer: Checkpointer = {
    load: async (sourceId) => {
      const found = this.checkpoints.get(sourceId);
      if (!found) return undefined;
      const { slot: _slot, resyncRequested: _asked, ...checkpoint } = found;
      return checkpoint;
    },
    initialise: async (sourceId, slot, lsn) => {
      if (!this.checkpoints.has(sourceId)) this.checkpoints.set(sourceId, { slot, confirmedLsn: lsn });
    },
    resyncRequested: async (sourceId) => this.checkpoints.get(sourceId)?.resyncRequested === true,
    startOver: async (sourceId, slot, lsn) => {
      this.checkpoints.set(sourceId, { slot, confirmedLsn: lsn });
      const ids = new Set([...this.tables.entries()].filter(([key]) => key.startsWith(`${sourceId}\u0000`)).map(([, id]) => id));
      this.events.splice(0, this.events.length, ...this.events.filter((event) => !ids.has(event.tableId)));
    },
    advanceIdle: async (sourceId, lsn) => {
      const current = this.checkpoints.get(sourceId);
      if (!current || current.partial || current.confirmedLsn >= lsn) return false;
      this.checkpoints.set(sourceId, { ...current, confirmedLsn: lsn });
      return true;
    },
  };

  readonly eventStore: EventStore = {
    commit: async (sourceId, events, checkpoint) => {
      const failure = this.failNextCommit;
      this.failNextCommit = undefined;
      if (failure) throw failure;
      const slot = this.checkpoints.get(sourceId)?.slot ?? '';
      this.events.push(...events);
      this.checkpoints.set(sourceId, { ...checkpoint, slot });
      this.commits.push({ sourceId, events: [...events], checkpoint });
    },
    commitCopy: async (_sourceId, _tableId, _generation, events) => {
      this.events.push(...events);
    },
  };

  readonly schemaStore: SchemaStore = {
    tableId: async (sourceId, schema, table) => {
      const key = `${sourceId}\u0000${schema}\u0000${table}`;
      if (!this.tables.has(key)) this.tables.set(key, this.tables.size + 1);
      return this.tables.get(key)!;
    },
    recordVersion: async (tableId, schema, firstLsn) => {
      const versions = this.versions.get(tableId) ?? [];
      const latest = versions.at(-1);
      if (latest && JSON.stringify(latest.schema) === JSON.stringify(schema)) return versions.length;
      versions.push({ schema, firstLsn });
      this.versions.set(tableId, versions);
      return versions.length;
    },
  };
}
