import { PassThrough } from 'node:stream';
import { createLogger, LoggerOptions } from './logger';

function capture(options: Partial<LoggerOptions> = {}) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = createLogger({ app: 'wal-reader', instanceId: 'host-1', level: 'info', format: 'json', stream, ...options });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, app and instance', () => {
    const { logger, lines } = capture();
    logger.info('slot acquired', { slot: 'philotes_cdc', lagBytes: 42 });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 'info', message: 'slot acquired', app: 'wal-reader', instance: 'host-1', slot: 'philotes_cdc', lagBytes: 42 });
    expect(new Date(line.timestamp).getTime()).toBeGreaterThan(0);
  });

  it('never writes secrets, URL passwords or row values', () => {
    const { logger, lines } = capture();
    logger.info('connecting to postgres://philotes:hunter2@db:5432/philotes', {
      password: 'hunter2',
      adminToken: 'tok-123',
      conninfo: 'host=db password=hunter2 user=x',
      row: { id: 1, email: 'a@example.com' },
      event: { table: 'users', after: { email: 'a@example.com' }, before: { email: 'b@example.com' } },
      payload: Buffer.from('secret row'),
    });
    const text = lines.join('\n');
    expect(text).not.toMatch(/hunter2|tok-123|example\.com|secret row/);
    const line = JSON.parse(lines[0]);
    expect(line.message).toBe('connecting to postgres://philotes:***@db:5432/philotes');
    expect(line.password).toBe('***');
    expect(line.conninfo).toBe('host=db password=*** user=x');
    expect(line.row).toBe('[row data omitted]');
    expect(line.event).toEqual({ table: 'users', after: '[row data omitted]', before: '[row data omitted]' });
  });

  it('withholds PostgreSQL data-error messages, which quote the offending value', () => {
    const { logger, lines } = capture();
    const dataError = Object.assign(new Error('invalid input syntax for type integer: "4111-1111-1111-1111"'), { code: '22P02' });
    const connError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    logger.error('write failed', { error: dataError });
    logger.error('connect failed', { error: connError });
    expect(lines.join('\n')).not.toContain('4111');
    expect(JSON.parse(lines[0]).error).toEqual({ name: 'Error', code: '22P02', message: 'SQLSTATE 22P02 (message withheld: it may quote row values)' });
    expect(JSON.parse(lines[1]).error).toEqual({ name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' });
  });

  it('writes a readable line for a terminal', () => {
    const { logger, lines } = capture({ format: 'text' });
    logger.warn('lag above threshold', { context: 'lag', lagSeconds: 12 });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ warn {4}\[wal-reader:lag\] lag above threshold {2}lagSeconds=12$/);
  });

  it('follows a level change at run time', () => {
    const { logger, lines } = capture();
    logger.debug('hidden');
    logger.level = 'debug';
    logger.debug('shown');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['shown']);
  });
});
