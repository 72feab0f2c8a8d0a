import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

// Time limits and activity cancellation for outbound calls. The limits themselves are in ./timeouts.

/**
 * A call that got no answer in time. It has no HTTP status and no service error code, so every classifier in
 * activities/errors.ts treats it as "no response": retried with backoff.
 */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what}: no answer within ${timeoutMs / 1000} s`);
  }
}

/**
 * The worker shutting down: Temporal cancels every running activity with WORKER_SHUTDOWN as soon as a shutdown
 * starts (the worker's `shutdownGraceTime` is 0). That is not a reason to drop a request in flight: a welcome email
 * or Slack notice already accepted would then be retried, and sent twice. The call goes on to its answer or its
 * limit, which is what bounds a graceful shutdown.
 */
const isWorkerShutdown = (reason: unknown): boolean =>
  reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN';

/** The running activity's cancellation signal; undefined outside an activity (CLI, tests calling clients directly). */
export function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * Runs `call` with a time limit and the running activity's cancellation. `call` receives a signal that aborts at
 * either, for SDKs that take one (the request is then really aborted); for those that do not, the returned promise
 * still settles at once, and the abandoned request is left to the SDK's own timeout.
 *
 * Settles with `DeadlineExceeded` after `timeoutMs`, or with the cancellation's reason (Temporal's
 * `CancelledFailure`) when the activity is cancelled (by its workflow, a timeout, a pause or a reset; not by the
 * worker shutting down, see above). `cancellation: null` ignores the activity's cancellation:
 * for work shared by several activities, which one activity's cancellation must not fail for the others.
 */
export function withDeadline<T>(
  what: string,
  timeoutMs: number,
  call: (signal: AbortSignal) => PromiseLike<T>,
  options: { cancellation?: AbortSignal | null } = {},
): Promise<T> {
  const cancellation = options.cancellation === undefined ? activityCancellation() : options.cancellation;
  if (cancellation?.aborted && !isWorkerShutdown(cancellation.reason)) {
    return Promise.reject(cancellation.reason as Error);
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeadlineExceeded(what, timeoutMs);
      reject(err);
      controller.abort(err);
    }, timeoutMs);
    if (cancellation && !cancellation.aborted) {
      onCancel = () => {
        if (isWorkerShutdown(cancellation.reason)) return;
        reject(cancellation.reason as Error);
        controller.abort(cancellation.reason);
      };
      cancellation.addEventListener('abort', onCancel, { once: true });
    }
  });
  const done = () => {
    clearTimeout(timer);
    if (onCancel) cancellation?.removeEventListener('abort', onCancel);
  };
  // Called at once; a synchronous throw becomes a rejection like any other.
  const answer = new Promise<T>((resolve) => resolve(call(controller.signal)));
  return Promise.race([answer, limit]).finally(done);
}
