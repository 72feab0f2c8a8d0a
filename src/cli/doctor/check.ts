import type { CheckResult, CheckStatus } from './report';

// What one check of `clerk-sync doctor` found, and how every check runs: within its own time limit, never throwing.
/** What a check found. */
export interface Outcome {
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export const ok = (detail: string): Outcome => ({ status: 'ok', detail });
export const warn = (detail: string, fix?: string): Outcome => ({ status: 'warn', detail, fix });
export const fail = (detail: string, fix?: string): Outcome => ({ status: 'fail', detail, fix });
export const skip = (detail: string): Outcome => ({ status: 'skip', detail });

/** How long one check may take: doctor answers in seconds, whatever hangs. */
export const CHECK_TIMEOUT_MS = 10_000;

/** Runs one check with its time limit; a throw is a failure with the error's message. */
export async function check(
  id: string,
  name: string,
  run: () => Promise<Outcome> | Outcome,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<CheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve(fail(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  let outcome: Outcome;
  try {
    outcome = await Promise.race([Promise.resolve().then(run), limit]);
  } catch (err) {
    outcome = fail(messageOf(err));
  } finally {
    clearTimeout(timer);
  }
  return { id, name, ...outcome, ms: Date.now() - started };
}

/** A check that was not run because the one it needs failed. */
export const skipped = (id: string, name: string, why: string): CheckResult => ({
  id,
  name,
  ...skip(why),
  ms: 0,
});

export const messageOf = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();

/** A few names, then how many more. */
export const list = (items: string[]) =>
  items.length > 4 ? `${items.slice(0, 4).join(', ')} and ${items.length - 4} more` : items.join(', ');
