/**
 * A failure the person at the command line fixes from its message alone: an option, a setting, a service to start.
 * bin.ts prints only the message (exit 1); any other error keeps its stack.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}
