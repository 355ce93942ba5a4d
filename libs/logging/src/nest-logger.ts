import { LoggerService } from '@nestjs/common';
import { Logger } from 'winston';

/** Module wiring and route mapping: nothing an operator needs on every start, so debug level. */
const BOOT_CHATTER = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * Nest's own messages (module init, routes, exceptions) through the same winston logger, so every
 * line of a process has one format and passes the same redaction.
 */
export class NestWinstonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const meta = contextOf(params);
    const level = BOOT_CHATTER.has(String(meta.context)) ? 'debug' : 'info';
    this.logger.log(level, String(message), meta);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack?, context?); the stack is kept out, the message carries the cause.
    this.logger.error(message instanceof Error ? message.message : String(message), contextOf(params));
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn(String(message), contextOf(params));
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug(String(message), contextOf(params));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.verbose(String(message), contextOf(params));
  }
}

function contextOf(params: unknown[]): Record<string, unknown> {
  const context = params.at(-1);
  return typeof context === 'string' ? { context } : {};
}
