import { ArgumentMetadata, ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import type { HttpResponse } from './http-types';
import type { Logger } from '@philotes/logging';
import { NotFoundError, OutOfBoundsError, StateConflictError } from '@philotes/dead-letters';
import { classifyError, ErrorKind, SqlState, sqlStateOf } from '@philotes/retry';
import { LOGGER } from '@philotes/runtime';

/** Every error the API answers with has this shape; `fields` names what was wrong in the request. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly fields?: ReadonlyArray<{ readonly field: string; readonly problems: readonly string[] }>;
  readonly status?: string;
}

/** Flattens class-validator's tree into `a.b: problem` entries, one per field. */
export function fieldProblems(errors: readonly ValidationError[], prefix = ''): Array<{ field: string; problems: string[] }> {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...fieldProblems(error.children ?? [], `${field}.`)];
  });
}

/** A JSON body must be an object: an array would be validated element by element, under numeric names. */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body') return super.transform(value, metadata);
    // No body at all is an empty one: every body field is optional or says it is required.
    const body = value === undefined ? {} : value;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body', 'the request body must be a JSON object');
    return super.transform(body, metadata);
  }
}

/** Input DTOs: unknown fields refused, types converted, every problem named by its field. */
export function apiValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = fieldProblems(errors);
      return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: fields.flatMap((f) => f.problems).join('; '), fields });
    },
  });
}

const BIGINT_ID = /^[1-9][0-9]{0,18}$/;

/** A positive integer PostgreSQL's bigint holds, as text (ids, keyset cursors): larger ones overflow in SQL. */
export function isPositiveInt8(value: unknown): boolean {
  return typeof value === 'string' && BIGINT_ID.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n;
}

/** A dead letter's id in the path: a positive 64-bit integer, else 400 naming the parameter. */
export class IdParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isPositiveInt8(value)) {
      throw badRequest('id', 'id must be a positive integer (a dead letter id)');
    }
    return value;
  }
}

/** A path parameter that must match a pattern. */
export class PatternParamPipe implements PipeTransform<string, string> {
  constructor(
    private readonly field: string,
    private readonly pattern: RegExp,
    private readonly rule: string,
  ) {}

  transform(value: string): string {
    if (!this.pattern.test(value)) throw badRequest(this.field, `${this.field} must be ${this.rule}`);
    return value;
  }
}

export function badRequest(field: string, message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, fields: [{ field, problems: [message] }] });
}

/**
 * The buffer database unreachable, restarting or out of connections (as the error policy classes
 * them): the service is unavailable for now, not broken. A cancelled statement (statement_timeout)
 * and a lock or serialization conflict are not: they answer 500 and are logged as errors.
 */
const UNAVAILABLE: ReadonlySet<ErrorKind> = new Set(['connection', 'server-shutdown', 'resources']);

function unavailable(error: unknown): boolean {
  const directive = classifyError(error);
  return directive.recovery === 'timed' && UNAVAILABLE.has(directive.kind) && sqlStateOf(error) !== SqlState.QueryCanceled;
}

/**
 * The one place errors become HTTP answers: domain errors as 404/409/400, a malformed body as 400,
 * the database being down as 503; anything else is a bug, logged (no row values) and answered 500.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<HttpResponse>();
    if (response.headersSent) return;
    const body = this.bodyOf(error);
    response.status(body.statusCode).json(body);
  }

  private bodyOf(error: unknown): ApiErrorBody {
    // Express's own errors (body-parser, a bad %-escape in the path) arrive wrapped by Nest.
    const cause = error instanceof HttpException ? (error.cause as { type?: string } | undefined) : undefined;
    if (cause?.type === 'entity.parse.failed') {
      return { statusCode: 400, error: 'Bad Request', message: 'the request body is not valid JSON', fields: [{ field: 'body', problems: ['must be valid JSON'] }] };
    }
    if (cause instanceof URIError) return { statusCode: 400, error: 'Bad Request', message: 'the path is not validly encoded', fields: [{ field: 'path', problems: ['must be valid percent-encoding'] }] };
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const answer = error.getResponse();
      if (typeof answer === 'object' && answer !== null && 'message' in answer) {
        const { message, ...rest } = answer as { message: unknown };
        return { statusCode: status, error: HttpStatus[status] ?? 'Error', ...rest, message: Array.isArray(message) ? message.join('; ') : String(message) } as ApiErrorBody;
      }
      return { statusCode: status, error: HttpStatus[status] ?? 'Error', message: String(answer) };
    }
    if (error instanceof NotFoundError) return { statusCode: 404, error: 'Not Found', message: error.message };
    if (error instanceof StateConflictError) return { statusCode: 409, error: 'Conflict', message: error.message, status: error.current };
    if (error instanceof OutOfBoundsError) return { statusCode: 400, error: 'Bad Request', message: error.message, fields: [{ field: error.field, problems: [error.message] }] };
    if (unavailable(error)) {
      this.logger.warn('the buffer database is unavailable', { error });
      return { statusCode: 503, error: 'Service Unavailable', message: 'the buffer database is unavailable; try again' };
    }
    this.logger.error('admin request failed', { error });
    return { statusCode: 500, error: 'Internal Server Error', message: 'the request failed; see the dlq-admin log' };
  }
}
