import { FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError, ConfigProblem, LoadedConfig, loadSettings, SETTING_DEFINITIONS, SettingSource, settingsFromSources } from './load';
import { PhilotesSettings } from './settings';

/** The part of a logger the store needs; structural so config does not depend on the logging lib. */
export interface ConfigLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export type ReloadOutcome =
  | { readonly status: 'applied'; readonly changed: readonly string[]; readonly needsRestart: readonly string[] }
  | { readonly status: 'unchanged'; readonly needsRestart: readonly string[] }
  | { readonly status: 'rejected'; readonly problems: readonly ConfigProblem[] };

export type SettingsListener = (settings: Readonly<PhilotesSettings>, changed: readonly string[]) => void;

const RELOADABLE = new Set(SETTING_DEFINITIONS.filter((d) => d.reloadable).map((d) => d.env));
/** Editors and Kubernetes ConfigMap updates write a file in several steps; wait for them to settle. */
const FILE_SETTLE_MS = 150;

/**
 * Holds the settings in force and replaces them on reload. Components that honour reloadable
 * settings read `settings` when they use a value (not once at start) or subscribe with `onChange`.
 *
 * A reload re-reads the environment and the config file and validates the result as a whole. If
 * anything is invalid the reload is rejected and the old settings stay. Only reloadable variables
 * change; a changed non-reloadable variable is reported as needing a restart and keeps its value.
 */
export class ConfigStore {
  private loaded: LoadedConfig;
  private readonly listeners = new Set<SettingsListener>();
  private watcher?: FSWatcher;
  private settleTimer?: NodeJS.Timeout;
  private readonly onSighup = (): void => void this.reload('SIGHUP');

  constructor(
    initial: LoadedConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: ConfigLog,
  ) {
    this.loaded = initial;
  }

  get settings(): Readonly<PhilotesSettings> {
    return this.loaded.settings;
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /** Calls `listener` after every applied reload; returns the unsubscribe function. */
  onChange(listener: SettingsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reload(trigger: string): ReloadOutcome {
    let next: LoadedConfig;
    try {
      next = loadSettings(this.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.reject(trigger, error);
    }
    const changed: string[] = [];
    const needsRestart: string[] = [];
    const merged = new Map<string, SettingSource>(this.loaded.sources);
    for (const definition of SETTING_DEFINITIONS) {
      const before = this.loaded.sources.get(definition.env);
      const after = next.sources.get(definition.env);
      if (before?.raw === after?.raw) continue;
      if (!RELOADABLE.has(definition.env)) {
        needsRestart.push(definition.env);
        continue;
      }
      changed.push(definition.env);
      if (after) merged.set(definition.env, after);
      else merged.delete(definition.env);
    }
    if (needsRestart.length > 0) {
      this.log.warn('configuration changes that need a restart were not applied', { trigger, variables: needsRestart });
    }
    if (changed.length === 0) return { status: 'unchanged', needsRestart };

    let settings: Readonly<PhilotesSettings>;
    try {
      // A reloadable value can break a rule shared with one that stays (batch size vs buffer size).
      settings = settingsFromSources(merged);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.reject(trigger, error);
    }
    this.loaded = { settings, sources: merged, warnings: next.warnings };
    this.log.info('configuration reloaded', { trigger, variables: changed });
    for (const listener of this.listeners) {
      try {
        listener(settings, changed);
      } catch (error) {
        this.log.error('a configuration listener failed', { trigger, error: (error as Error).message });
      }
    }
    return { status: 'applied', changed, needsRestart };
  }

  /** Reloads on SIGHUP and whenever the config file changes. */
  watch(): void {
    process.on('SIGHUP', this.onSighup);
    const file = this.env.PHILOTES_CONFIG_FILE?.trim();
    if (!file) return;
    const path = resolve(file);
    // Watch the directory, not the file: editors and ConfigMap updates replace the file (a rename),
    // after which a watch on the old inode never fires again.
    this.watcher = watch(dirname(path), (_event, name) => {
      if (name !== null && name !== basename(path) && !String(name).startsWith('..')) return;
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => void this.reload('config file change'), FILE_SETTLE_MS);
    });
    this.watcher.on('error', (error) => this.log.warn('stopped watching the config file', { error: error.message }));
  }

  close(): void {
    process.off('SIGHUP', this.onSighup);
    clearTimeout(this.settleTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private reject(trigger: string, error: ConfigError): ReloadOutcome {
    this.log.error('configuration reload rejected; the previous settings stay in force', {
      trigger,
      problems: error.problems.map((p) => `${p.variable}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: ${p.rule}`),
    });
    return { status: 'rejected', problems: error.problems };
  }
}
