import { pino, type Logger, type LoggerOptions } from 'pino';
import { scrubSecrets, serializeError } from './secrets.ts';

export type { Logger } from 'pino';

/**
 * pino JSON, tagged with the service name; pretty when a person watches (a TTY) unless LOG_PRETTY=false.
 * Secrets never reach a line: the usual credential fields are redacted, errors lose their HTTP
 * request configs, and every line is scrubbed of keys, signatures and tokens inside text (URLs,
 * connection strings) before it is written.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['*.password', '*.secret', '*.token', '*.key', '*.authorization', '*.connectionString', 'headers.authorization', '*.headers.authorization', 'config', '*.config'],
      censor: '[redacted]',
    },
    serializers: { err: serializeError, error: serializeError },
    hooks: { streamWrite: scrubSecrets },
  };
  if (destination) return pino(options, destination);
  const pretty = process.stdout.isTTY && process.env.LOG_PRETTY !== 'false' && process.env.NODE_ENV !== 'test';
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(options);
}
