import pino, { type Logger } from 'pino';

/** Keys and secrets never reach the log: query strings are cut and these fields are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['key', 'secret', '*.key', '*.secret', 'req.query', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
