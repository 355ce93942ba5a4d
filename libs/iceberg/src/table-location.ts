import { TableIdentifier } from './catalog/catalog';

/**
 * A name as one path segment that is the same on a local disk, in a file:// URI and as an S3 key:
 * letters, digits, '_' and '-' stay; every other byte (of its UTF-8) becomes `~` and two hex digits,
 * '~' included. So no segment is empty, '.' or '..', none holds '/', and none has anything a URI
 * decodes ('%') or cuts off ('#', '?'). Injective: a '~' always starts an escape.
 */
export function pathSegment(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char) ? char : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Where a new table's files go: `<root>/<level>/…/<level>.db/<name>-<table uuid>`, each part a
 * {@link pathSegment}. The UUID (as Iceberg's REST catalogs add it) makes a location unique even
 * for a table dropped and created again under the same name, and no location can lie inside
 * another's: segments hold no '/', and the last one ends in a UUID.
 */
export function newTableLocation(root: string, id: TableIdentifier, tableUuid: string): string {
  const levels = id.namespace.split('.').map(pathSegment);
  levels[levels.length - 1] += '.db';
  return `${root}/${levels.join('/')}/${pathSegment(id.name)}-${tableUuid.replace(/-/g, '')}`;
}
