import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Where each raw value of a config file came from, keyed by the variable it sets. */
export type FileValues = ReadonlyMap<string, string>;

export class ConfigFileError extends Error {}

/**
 * Reads a YAML or JSON config file (YAML is a superset of JSON, so one parser serves both) and
 * flattens it to variable names, so a file and the environment are validated by the same rules.
 * These three spell the same setting:
 *
 *     cdc: { batch_size: 2000 }      CDC_BATCH_SIZE: 2000      PHILOTES_CDC_BATCH_SIZE: "2000"
 */
export function readConfigFile(path: string): FileValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigFileError(`is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigFileError('must hold a mapping of settings, such as "cdc: { batch_size: 2000 }"');
  }
  const values = new Map<string, string>();
  flatten(document as Record<string, unknown>, [], values);
  return values;
}

function flatten(node: Record<string, unknown>, path: string[], into: Map<string, string>): void {
  for (const [key, value] of Object.entries(node)) {
    const segments = [...path, key.trim().replace(/[.\- ]/g, '_').toUpperCase()];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      flatten(value as Record<string, unknown>, segments, into);
      continue;
    }
    const name = segments.join('_');
    const variable = name.startsWith('PHILOTES_') ? name : `PHILOTES_${name}`;
    into.set(variable, Array.isArray(value) ? value.map(String).join(',') : value === null ? '' : String(value));
  }
}
