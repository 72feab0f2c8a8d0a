import { prettyFactory } from 'pino-pretty';
import { createLogger, type Logger } from '../logger';

/** Where local mode writes: the process's stdout, or a test's stand-in. */
export interface LogOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * `clerk-sync dev`'s logger (issue 16). In a terminal, one readable line per event: time, level, message, then the
 * ids (pino-pretty, the pino project's own formatter, run in-process so lines keep their order with the start-up
 * banner). Written to a file or a pipe, the JSON lines that `api` and `worker` always write.
 */
export function createLocalLogger(level: string, out: LogOutput = process.stdout): Logger {
  if (!out.isTTY) return createLogger(level, out === process.stdout ? undefined : out);
  const prettify = prettyFactory({
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
  return createLogger(level, { write: (line: string) => out.write(prettify(line)) });
}
