import { Catalog, CommitUnit, TableIdentifier } from './catalog';

/**
 * A catalog in memory, for unit tests of what commits tables: the SQL catalog's contract (create
 * refuses a taken name; swap is a compare-and-swap of the metadata location). A swap given a unit
 * joins it as the SQL catalog's joins the transaction: it is enlisted and becomes the table's
 * location only when the unit commits (a unit that rolls back leaves the old one). Until then
 * `load` returns the old location and any other swap of the table fails, as one waiting on the
 * SQL catalog's row lock would once the unit commits. A unit that cannot enlist (a real database
 * transaction) is refused: the swap could not commit with it.
 */
export class MemoryCatalog implements Catalog {
  /** Metadata location by table (`namespace` NUL `name`). */
  private readonly locations = new Map<string, string>();
  /** Swaps enlisted in a unit still open, by table. */
  private readonly pending = new Map<string, string>();
  readonly namespaces = new Set<string>();
  /** Every swap that stood, in order. */
  readonly swaps: Array<{ readonly table: TableIdentifier; readonly from: string; readonly to: string }> = [];

  constructor(readonly name = 'memory') {}

  async load(table: TableIdentifier): Promise<string | undefined> {
    return this.locations.get(keyOf(table));
  }

  async create(table: TableIdentifier, metadataLocation: string): Promise<boolean> {
    const key = keyOf(table);
    if (this.locations.has(key)) return false;
    this.locations.set(key, metadataLocation);
    return true;
  }

  async swap(table: TableIdentifier, expected: string, next: string, unit?: CommitUnit): Promise<boolean> {
    const key = keyOf(table);
    if (this.locations.get(key) !== expected || this.pending.has(key)) return false;
    const apply = () => {
      this.locations.set(key, next);
      this.swaps.push({ table, from: expected, to: next });
    };
    if (!unit) {
      apply();
      return true;
    }
    if (!unit.enlist) throw new Error('the memory catalog cannot join a database transaction (its unit must enlist the swap)');
    this.pending.set(key, next);
    unit.enlist({
      commit: () => {
        this.pending.delete(key);
        apply();
      },
      rollback: () => this.pending.delete(key),
    });
    return true;
  }

  async ensureNamespace(namespace: string): Promise<void> {
    this.namespaces.add(namespace);
  }

  async list(): Promise<TableIdentifier[]> {
    return [...this.locations.keys()].sort().map((key) => {
      const [namespace, name] = key.split('\u0000');
      return { namespace, name };
    });
  }
}

function keyOf(table: TableIdentifier): string {
  return `${table.namespace}\u0000${table.name}`;
}
