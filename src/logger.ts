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

/** A Temporal SDK log entry (`@temporalio/worker` `LogEntry`), as its Runtime logger hands it over. */
export interface SdkLogEntry {
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  message: string;
  meta?: Record<string, unknown>;
}

const SDK_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

// The email worker polls activity tasks only, by design (src/worker.ts); the SDK says so at WARN each time one starts.
// An expected fact of start-up is not a warning (issue 16): it is logged at debug. test/e2e/logs.test.ts pins the
// wording, so a rewording in the SDK shows up as a failing test rather than as a warning again.
const ACTIVITY_ONLY_WORKER = 'No workflows registered, not polling for workflow tasks';

/** Logs one entry of the Temporal SDK (worker, workflow `log`, activity `log`) through pino. */
export function logSdkEntry(logger: Logger, { level, message, meta }: SdkLogEntry): void {
  const pinoLevel = level === 'WARN' && message === ACTIVITY_ONLY_WORKER ? 'debug' : SDK_LEVELS[level];
  logger[pinoLevel]({ ...meta }, message);
}
