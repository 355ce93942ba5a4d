import { parseArgs, ParseArgsConfig } from 'node:util';
import { parseDuration } from '@philotes/config';
import { ExitCode } from './exit-codes';

/** A subcommand as the command line sees it: its options, its help, and how its arguments read. */
export interface CommandSpec<Parsed> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** One line per option, for --help. */
  readonly optionHelp: readonly string[];
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** The parsed values checked and typed; throws UsageError naming the option and the rule. */
  readonly read: (values: Record<string, string | boolean | undefined>) => Parsed;
}

/** Arguments the command line refuses: exit code 3, the message names the option and the rule. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface VerifyArgs {
  readonly source?: string;
  readonly table?: string;
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly keyIndex: boolean;
}

const verify: CommandSpec<VerifyArgs> = {
  name: 'verify',
  summary: 'compare each source table with its Iceberg table at a consistent point',
  usage: 'philotes verify [--source ID] [--table schema.table] [--timeout 60s] [--key-index] [--json]',
  optionHelp: [
    '--source ID            only this source\'s tables',
    '--table schema.table   only this table',
    '--timeout 60s          how long to wait for a comparable point per table (default 60s)',
    '--key-index            also check the key index of each table deleting by position against its files',
    '--json                 the verdicts as JSON instead of the report',
  ],
  options: { source: { type: 'string' }, table: { type: 'string' }, timeout: { type: 'string' }, 'key-index': { type: 'boolean' }, json: { type: 'boolean' } },
  read: (values) => {
    const table = values.table as string | undefined;
    if (table !== undefined && !/^[^.]+\..+$/.test(table)) throw new UsageError(`--table must be schema.table, got "${table}"`);
    const timeout = (values.timeout as string | undefined) ?? '60s';
    const timeoutMs = parseDuration(timeout);
    if (timeoutMs === undefined) throw new UsageError(`--timeout must be a duration such as 60s, got "${timeout}"`);
    return { source: values.source as string | undefined, table, timeoutMs, json: values.json === true, keyIndex: values['key-index'] === true };
  },
};

const migrate: CommandSpec<Record<string, never>> = {
  name: 'migrate',
  summary: 'apply the pending buffer-schema migrations to PHILOTES_DATABASE_URL and exit',
  usage: 'philotes migrate',
  optionHelp: [],
  options: {},
  read: () => ({}),
};

export interface ConfigReferenceArgs {
  /** Rewrite this file's generated section (between the config-reference markers) instead of printing. */
  readonly write?: string;
}

const configReference: CommandSpec<ConfigReferenceArgs> = {
  name: 'config-reference',
  summary: 'print every PHILOTES_* setting with its default, whether it reloads, and its meaning',
  usage: 'philotes config-reference [--write README.md]',
  optionHelp: ['--write FILE   replace FILE\'s section between <!-- config-reference:start/end --> instead of printing'],
  options: { write: { type: 'string' } },
  read: (values) => (values.write === undefined ? {} : { write: values.write as string }),
};

export const COMMANDS = { verify, migrate, 'config-reference': configReference } as const;
export type CommandName = keyof typeof COMMANDS;

export type Invocation =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string }
  | { readonly [N in CommandName]: { readonly kind: 'run'; readonly command: N; readonly args: ReturnType<(typeof COMMANDS)[N]['read']> } }[CommandName];

const EXIT_HELP = [
  'Exit codes:',
  `  ${ExitCode.Ok}  done (verify: every table matches)`,
  `  ${ExitCode.Differences}  verify found a difference`,
  `  ${ExitCode.NotCompared}  verify could not compare a table yet (the pipeline is behind)`,
  `  ${ExitCode.Usage}  bad arguments or configuration; nothing was done`,
  `  ${ExitCode.CouldNotRun}  the command could not run to the end (a database or the warehouse unreachable); try again`,
];

export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'philotes: operate a Philotes pipeline (settings from the PHILOTES_* environment, as the apps read them)',
    '',
    'Usage: philotes <command> [options]    philotes <command> --help    philotes --version',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    ...EXIT_HELP,
  ].join('\n');
}

function commandHelp(spec: CommandSpec<unknown>): string {
  return [`${spec.usage}`, '', `${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`, ...(spec.optionHelp.length ? ['', 'Options:', ...spec.optionHelp.map((l) => `  ${l}`)] : []), '', ...EXIT_HELP].join('\n');
}

/** What the arguments ask for: a command to run with its arguments, help, or a usage error. */
export function parseInvocation(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { kind: 'help', text: mainHelp() };
  if (first === '--version') return { kind: 'version' };
  if (!(first in COMMANDS)) return { kind: 'usage-error', message: `unknown command "${first}"; commands: ${Object.keys(COMMANDS).join(', ')} (philotes --help)` };
  const name = first as CommandName;
  const spec = COMMANDS[name] as CommandSpec<unknown>;
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help', text: commandHelp(spec) };
  try {
    const { values } = parseArgs({ args: [...rest], options: spec.options, strict: true, allowPositionals: false });
    return { kind: 'run', command: name, args: spec.read(values as Record<string, string | boolean | undefined>) } as Invocation;
  } catch (error) {
    // parseArgs names the option it refused (unknown, or missing its value). Its errors may come
    // from another realm (a test VM): read the message, do not test instanceof.
    const message = typeof (error as { message?: unknown }).message === 'string' ? (error as { message: string }).message : String(error);
    return { kind: 'usage-error', message: `${name}: ${message} (${spec.usage})` };
  }
}
