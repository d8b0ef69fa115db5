import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'pretty' | 'json';

/** Pretty at a terminal (a person reads it), JSON lines otherwise (a collector parses it). */
export function chooseLogFormat(
  configured: LogFormat | undefined,
  isTerminal: boolean = Boolean(process.stdout.isTTY),
): LogFormat {
  return configured ?? (isTerminal ? 'pretty' : 'json');
}

/** Keys and secrets never reach the log: query strings are cut and these fields are redacted. */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    redact: {
      paths: ['key', 'secret', '*.key', '*.secret', 'req.query', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
  if (format === 'json') return pino(options);
  // pino-pretty as a synchronous stream in this process (not a worker transport): lines appear in order
  // with the start banner, and nothing is lost when the process exits.
  return pino(
    options,
    pretty({
      colorize: Boolean(process.stdout.isTTY),
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    }),
  );
}
