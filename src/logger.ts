import pino from 'pino';
import type { Logger as PinoLogger } from 'pino';

/** The product's logger: JSON lines, secrets redacted; names, emails and payloads are never logged. */
export type Logger = PinoLogger;

/** Creates the process logger at `level`; `authorization` and `svix-signature` never reach the output. */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'clerk-sync' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          '*["svix-signature"]',
          'headers["svix-signature"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
