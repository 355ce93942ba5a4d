import { ColumnSchema, ValueKind } from '@philotes/events';
import { BUILTIN_TYPES } from '@philotes/pg-types';
import { CatalogColumn, CatalogType } from './source-catalog';

export interface ResolvedType {
  readonly kind: ValueKind;
  readonly typeName: string;
  readonly element?: { readonly kind: ValueKind; readonly typeOid: number; readonly typeName: string };
  readonly textFallback?: boolean;
  /** A domain's modifier of its base type: a column of the domain has none of its own (atttypmod -1). */
  readonly typeModifier?: number;
}

export interface TypeLookup {
  types(oids: readonly number[]): Promise<Map<number, CatalogType>>;
}

export interface TypeResolverLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

const TEXT_FALLBACK = (typeName: string): ResolvedType => ({ kind: 'text', typeName, textFallback: true });

/**
 * Turns type OIDs into value kinds. Built-in types are known by OID; others (enums, domains, arrays
 * of them, extension types) are looked up in the source catalog once and cached. A type with no
 * exact mapping is kept as its text form, with one warning per column.
 */
export class TypeResolver {
  private readonly cache = new Map<number, ResolvedType>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly lookup: TypeLookup,
    private readonly log: TypeResolverLog,
  ) {}

  async columns(table: string, columns: readonly CatalogColumn[]): Promise<ColumnSchema[]> {
    await this.prefetch(columns.map((c) => c.typeOid));
    return columns.map((column) => {
      const type = this.cached(column.typeOid);
      if (type.textFallback && !this.warned.has(`${table}.${column.name}`)) {
        this.warned.add(`${table}.${column.name}`);
        this.log.warn('column type has no exact mapping; its values are kept as PostgreSQL text', { table, column: column.name, type: type.typeName });
      }
      return {
        name: column.name,
        typeOid: column.typeOid,
        typeModifier: column.typeModifier >= 0 ? column.typeModifier : (type.typeModifier ?? column.typeModifier),
        typeName: type.typeName,
        kind: type.kind,
        ...(type.element ? { element: type.element } : {}),
        key: column.key,
        ...(column.primaryKey ? { primaryKey: true } : {}),
        ...(type.textFallback ? { textFallback: true } : {}),
      };
    });
  }

  /** Loads every type these OIDs need (domains' bases, arrays' elements) into the cache. */
  private async prefetch(oids: readonly number[]): Promise<void> {
    let pending = [...new Set(oids)].filter((oid) => !this.cache.has(oid) && !BUILTIN_TYPES.has(oid));
    const catalog = new Map<number, CatalogType>();
    while (pending.length > 0) {
      const found = await this.lookup.types(pending);
      for (const [oid, type] of found) catalog.set(oid, type);
      pending = [...found.values()]
        .flatMap((t) => [t.elementOid, t.baseOid])
        .filter((oid) => oid !== 0 && !catalog.has(oid) && !this.cache.has(oid) && !BUILTIN_TYPES.has(oid));
    }
    for (const oid of oids) this.resolve(oid, catalog);
  }

  private cached(oid: number): ResolvedType {
    return this.cache.get(oid) ?? this.resolve(oid, new Map());
  }

  private resolve(oid: number, catalog: ReadonlyMap<number, CatalogType>, depth = 0): ResolvedType {
    const known = this.cache.get(oid);
    if (known) return known;
    const resolved = depth > 8 ? TEXT_FALLBACK(`oid ${oid}`) : this.describe(oid, catalog, depth);
    this.cache.set(oid, resolved);
    return resolved;
  }

  private describe(oid: number, catalog: ReadonlyMap<number, CatalogType>, depth: number): ResolvedType {
    const builtin = BUILTIN_TYPES.get(oid);
    if (builtin && builtin.kind !== 'array') return { kind: builtin.kind, typeName: builtin.name, ...(builtin.textFallback ? { textFallback: true } : {}) };
    if (builtin?.elementOid !== undefined) return this.arrayOf(builtin.name, builtin.elementOid, catalog, depth);
    const type = catalog.get(oid);
    if (!type) return TEXT_FALLBACK(`oid ${oid}`);
    if (type.typtype === 'e') return { kind: 'enum', typeName: type.name };
    if (type.typtype === 'd') {
      const base = this.resolve(type.baseOid, catalog, depth + 1);
      // A domain over a domain has no modifier of its own: the inner one's applies.
      const modifier = type.baseTypeModifier !== undefined && type.baseTypeModifier >= 0 ? type.baseTypeModifier : base.typeModifier;
      return { ...base, typeName: type.name, ...(modifier !== undefined ? { typeModifier: modifier } : {}) };
    }
    if (type.elementOid !== 0 && type.typtype === 'b') return this.arrayOf(type.name, type.elementOid, catalog, depth);
    return TEXT_FALLBACK(type.name);
  }

  private arrayOf(typeName: string, elementOid: number, catalog: ReadonlyMap<number, CatalogType>, depth: number): ResolvedType {
    const element = this.resolve(elementOid, catalog, depth + 1);
    if (element.kind === 'array') return TEXT_FALLBACK(typeName);
    return {
      kind: 'array',
      typeName,
      element: { kind: element.kind, typeOid: elementOid, typeName: element.typeName },
      ...(element.textFallback ? { textFallback: true } : {}),
    };
  }
}
