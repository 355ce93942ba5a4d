import { parseDuration } from './duration';
import { parseSize } from './size';
import { parseListenAddress } from './listen-address';
import { parsePartitioningSetting } from './partitioning-setting';
import { parseSortOrders, parseTableProperties } from './table-settings';

/**
 * How a variable's text becomes a typed value. Each parser returns the value, or the rule the text
 * broke, phrased to follow "VARIABLE=value: ..." in an error message.
 */
export type SettingKind = 'string' | 'integer' | 'number' | 'boolean' | 'duration' | 'size' | 'listen-address' | 'list' | 'table-properties' | 'sort-orders' | 'partitioning';

type ParseResult = { readonly value: unknown } | { readonly rule: string };

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export const PARSERS: Readonly<Record<SettingKind, (raw: string) => ParseResult>> = {
  string: (raw) => ({ value: raw }),
  integer: (raw) => {
    const text = raw.trim().replace(/_/g, '');
    return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text))
      ? { value: Number(text) }
      : { rule: 'must be a whole number' };
  },
  number: (raw) => {
    const text = raw.trim();
    const value = Number(text);
    return text !== '' && Number.isFinite(value) ? { value } : { rule: 'must be a number' };
  },
  boolean: (raw) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return { value: true };
    if (FALSE_WORDS.has(word)) return { value: false };
    return { rule: 'must be true or false' };
  },
  duration: (raw) => {
    const ms = parseDuration(raw);
    return ms === undefined ? { rule: 'must be a duration such as 500ms, 10s, 5m, 1h or 168h' } : { value: ms };
  },
  size: (raw) => {
    const bytes = parseSize(raw);
    return bytes === undefined ? { rule: 'must be a size such as 512KB, 64MB or 1GB' } : { value: bytes };
  },
  'listen-address': (raw) => {
    const address = parseListenAddress(raw);
    return address ? { value: address } : { rule: 'must be an address such as :8081 or 127.0.0.1:8081' };
  },
  list: (raw) => ({
    value: raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  }),
  'table-properties': parseTableProperties,
  'sort-orders': parseSortOrders,
  partitioning: parsePartitioningSetting,
};

export interface SettingSpec {
  /** The environment variable, always `PHILOTES_*`. */
  readonly env: string;
  readonly kind: SettingKind;
  /** The default as a user would write it; absent means "not set" (the property is undefined). */
  readonly default?: string;
  /** Takes effect on SIGHUP or a config-file change without a restart. */
  readonly reloadable?: boolean;
  /** Never printed: masked in error messages, logs and config dumps. */
  readonly secret?: boolean;
  /** One line for the README's configuration reference. */
  readonly doc: string;
}

export interface SettingDefinition extends SettingSpec {
  /** The property of {@link PhilotesSettings} the variable fills. */
  readonly property: string;
}

const definitionsByClass = new WeakMap<object, SettingDefinition[]>();

/** Declares which variable fills a property; class-validator decorators on the same property add the rules. */
export function Setting(spec: SettingSpec): PropertyDecorator {
  if (!spec.env.startsWith('PHILOTES_')) throw new Error(`setting ${spec.env} must start with PHILOTES_`);
  return (target, property) => {
    const definitions = definitionsByClass.get(target.constructor) ?? [];
    definitions.push({ ...spec, property: String(property) });
    definitionsByClass.set(target.constructor, definitions);
  };
}

export function definitionsOf(settingsClass: object): readonly SettingDefinition[] {
  return definitionsByClass.get(settingsClass) ?? [];
}
