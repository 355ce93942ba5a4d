import { createLogger as createWinston, format, Logger, transports } from 'winston';
import { redactField, redactText } from './redact';

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug';
export type LogFormat = 'auto' | 'json' | 'text';

export interface LoggerOptions {
  readonly app: string;
  readonly instanceId: string;
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** For tests: where lines go instead of stdout. */
  readonly stream?: NodeJS.WritableStream;
}

/** Every line passes through here: message and metadata redacted, identity stamped. */
const redaction = format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    info[key] = key === 'message' ? redactText(String(info.message)) : redactField(key, info[key]);
  }
  return info;
});

const textLine = format.printf((info) => {
  const { level, message, timestamp, app, instance: _instance, context, ...meta } = info;
  const scope = context ? `${String(app)}:${String(context)}` : String(app);
  const extras = Object.entries(meta)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.padEnd(7)} [${scope}] ${String(message)}${extras ? `  ${extras}` : ''}`;
});

/**
 * JSON lines for machines (one object per line: timestamp, level, app, instance, message, fields),
 * a readable line for a terminal. `auto` picks text when stdout is a terminal.
 */
export function createLogger(options: LoggerOptions): Logger {
  const json = options.format === 'json' || (options.format === 'auto' && !process.stdout.isTTY);
  const transport = options.stream ? new transports.Stream({ stream: options.stream }) : new transports.Console();
  const colour = !options.stream && process.stdout.isTTY;
  const line = json ? format.json() : colour ? format.combine(format.colorize(), textLine) : textLine;
  return createWinston({
    level: options.level,
    defaultMeta: { app: options.app, instance: options.instanceId },
    format: format.combine(format.timestamp(), redaction(), line),
    transports: [transport],
  });
}
