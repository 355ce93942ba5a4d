import { validateSync, ValidationError } from 'class-validator';
import { ConfigFileError, FileValues, readConfigFile } from './config-file';
import { definitionsOf, PARSERS, SettingDefinition } from './setting';
import { PhilotesSettings } from './settings';

export type SettingOrigin = 'default' | 'environment' | 'config file';

export interface SettingSource {
  readonly raw: string;
  readonly origin: SettingOrigin;
}

/** One broken rule, phrased for the operator: which variable, which value, which rule. */
export interface ConfigProblem {
  readonly variable: string;
  /** Already masked when the setting is secret. */
  readonly value?: string;
  readonly origin?: SettingOrigin;
  readonly rule: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly settings: Readonly<PhilotesSettings>;
  /** The text and origin of every variable that has a value, for the start-up log and reload diffs. */
  readonly sources: ReadonlyMap<string, SettingSource>;
  /** Variables that look like settings but are not (typos); logged, not fatal. */
  readonly warnings: readonly string[];
}

/** Variables with the prefix that are deliberately not settings of the apps (tools and tests read them). */
const NOT_SETTINGS = new Set(['PHILOTES_CONFIG_FILE', 'PHILOTES_APP', 'PHILOTES_TEST_DATABASE_URL', 'PHILOTES_LOCAL_PG_PORT', 'PHILOTES_LOCAL_DATA_DIR', 'PHILOTES_FAULTS']);
const MASK = '***';

/**
 * Settings that were replaced. Set, they stop start-up: their value would now mean something else
 * (a count of events read as bytes), and ignoring them would silently drop what the operator chose.
 */
const RETIRED: ReadonlyMap<string, string> = new Map([
  ['PHILOTES_BACKPRESSURE_HIGH_WATERMARK', 'was replaced by PHILOTES_BACKPRESSURE_HIGH_BYTES: backpressure weighs unapplied bytes, not events'],
  ['PHILOTES_BACKPRESSURE_LOW_WATERMARK', 'was replaced by PHILOTES_BACKPRESSURE_LOW_BYTES: backpressure weighs unapplied bytes, not events'],
]);

export const SETTING_DEFINITIONS: readonly SettingDefinition[] = definitionsOf(PhilotesSettings);
const BY_VARIABLE = new Map(SETTING_DEFINITIONS.map((d) => [d.env, d]));
const BY_PROPERTY = new Map(SETTING_DEFINITIONS.map((d) => [d.property, d]));

/**
 * Reads every setting from the environment, then the file named by PHILOTES_CONFIG_FILE, then the
 * defaults (in that order of precedence), and validates them all. Throws one {@link ConfigError}
 * listing every problem, so an operator fixes them in one go rather than one restart per typo.
 * An empty variable counts as unset, as `KEY=` in a compose file usually means "no value".
 */
export function loadSettings(env: NodeJS.ProcessEnv): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const fileValues = readFileValues(env, problems);
  for (const [variable, rule] of RETIRED) {
    const fromEnv = nonEmpty(env[variable]);
    const value = fromEnv ?? nonEmpty(fileValues.get(variable));
    if (value !== undefined) problems.push({ variable, value, origin: fromEnv !== undefined ? 'environment' : 'config file', rule });
  }
  for (const variable of fileValues.keys()) {
    if (RETIRED.has(variable)) continue;
    if (!BY_VARIABLE.has(variable)) {
      problems.push({ variable, origin: 'config file', rule: `is not a Philotes setting${suggestion(variable)}` });
    }
  }
  const sources = new Map<string, SettingSource>();
  for (const definition of SETTING_DEFINITIONS) {
    const fromEnv = nonEmpty(env[definition.env]);
    const fromFile = nonEmpty(fileValues.get(definition.env));
    const raw = fromEnv ?? fromFile ?? definition.default;
    if (raw === undefined) continue;
    sources.set(definition.env, { raw, origin: fromEnv !== undefined ? 'environment' : fromFile !== undefined ? 'config file' : 'default' });
  }
  const settings = buildSettings(sources, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('PHILOTES_') && !BY_VARIABLE.has(name) && !NOT_SETTINGS.has(name) && !RETIRED.has(name))
    .map((name) => `${name} is set but is not a Philotes setting${suggestion(name)}`);
  return { settings, sources, warnings };
}

/** Parses and validates a set of raw values; throws {@link ConfigError} when any rule is broken. */
export function settingsFromSources(sources: ReadonlyMap<string, SettingSource>): Readonly<PhilotesSettings> {
  const problems: ConfigProblem[] = [];
  const settings = buildSettings(sources, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

function buildSettings(sources: ReadonlyMap<string, SettingSource>, problems: ConfigProblem[]): Readonly<PhilotesSettings> {
  const values: Record<string, unknown> = {};
  const failedProperties = new Set<string>();
  for (const definition of SETTING_DEFINITIONS) {
    const source = sources.get(definition.env);
    if (source === undefined) continue;
    const parsed = PARSERS[definition.kind](source.raw);
    if ('rule' in parsed) {
      failedProperties.add(definition.property);
      problems.push({ variable: definition.env, value: shown(definition, source.raw), origin: source.origin, rule: parsed.rule });
    } else {
      values[definition.property] = parsed.value;
    }
  }
  const settings = Object.assign(new PhilotesSettings(), values);
  for (const error of validateSync(settings, { forbidUnknownValues: true })) {
    if (!failedProperties.has(error.property)) problems.push(...problemsOf(error, sources));
  }
  return Object.freeze(settings);
}

/** The values a process may print: as written, secrets masked. */
export function describeSettings(config: LoadedConfig): Record<string, string> {
  const described: Record<string, string> = {};
  for (const [variable, source] of config.sources) {
    const definition = BY_VARIABLE.get(variable);
    described[variable] = definition?.secret ? MASK : source.raw;
  }
  return described;
}

function readFileValues(env: NodeJS.ProcessEnv, problems: ConfigProblem[]): FileValues {
  const path = nonEmpty(env.PHILOTES_CONFIG_FILE);
  if (path === undefined) return new Map();
  try {
    return readConfigFile(path);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    problems.push({ variable: 'PHILOTES_CONFIG_FILE', value: path, origin: 'environment', rule: error.message });
    return new Map();
  }
}

function problemsOf(error: ValidationError, sources: ReadonlyMap<string, SettingSource>): ConfigProblem[] {
  const definition = BY_PROPERTY.get(error.property);
  if (!definition) return [{ variable: error.property, rule: 'is not a Philotes setting' }];
  const source = sources.get(definition.env);
  return Object.values(error.constraints ?? {}).map((message) => ({
    variable: definition.env,
    value: source === undefined ? undefined : shown(definition, source.raw),
    origin: source?.origin,
    // class-validator's own messages start with the property name; ours complete "VAR=value: ...".
    rule: message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message,
  }));
}

function shown(definition: SettingDefinition, raw: string): string {
  return definition.secret ? MASK : raw;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => {
    const value = p.value === undefined ? '' : `=${JSON.stringify(p.value)}`;
    const origin = p.origin && p.origin !== 'environment' ? ` (from ${p.origin})` : '';
    return `  - ${p.variable}${value}${origin}: ${p.rule}`;
  });
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `Invalid configuration (${count}):\n${lines.join('\n')}`;
}

function suggestion(name: string): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of BY_VARIABLE.keys()) {
    const distance = editDistance(name, known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The crash points of a fault-injection test run (see @philotes/faults); unset in production. */
export function faultInjectionSpec(env: NodeJS.ProcessEnv): string | undefined {
  return nonEmpty(env.PHILOTES_FAULTS);
}
