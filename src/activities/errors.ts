import { ApplicationFailure } from '@temporalio/common';

// The only retry decisions in the product. Each system's errors are classified once, here: a failure a
// retry can fix is retried with backoff (honouring Retry-After through `nextRetryDelay`); any other fails
// the activity at once, non-retryable, with the system's code and message in the failure. The SDK's own
// error is not attached as the cause: its message may quote field values, and failures land in history.

/** Codes Salesforce answers for a state that passes: locks, maintenance, API allocation. */
const SALESFORCE_TRANSIENT = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'REQUEST_LIMIT_EXCEEDED',
  'UNKNOWN_EXCEPTION',
  'INVALID_SESSION_ID',
  'QUERY_TIMEOUT',
  'TXN_SECURITY_METERING_ERROR',
]);

/**
 * An error's message with email addresses masked: services quote field values (`invalid email address: …`), and the
 * message lands in history and in the worker's logs, which carry ids, never addresses.
 */
const mask = (text: string): string =>
  text.replace(/[^\s@'"<>(),;:]+@[^\s@'"<>(),;:]+\.[A-Za-z]{2,}/g, '[email]');
const messageOf = (err: unknown): string => mask(err instanceof Error ? err.message : String(err));

const HTTP_TRANSIENT = (status: number | undefined) =>
  status === undefined || status === 408 || status === 429 || status >= 500;

/** An error thrown by this product's Salesforce code for a failed composite subrequest (same shape as jsforce's). */
export class SalesforceError extends Error {
  override readonly name = 'SalesforceError';
  constructor(
    readonly errorCode: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Salesforce (jsforce `HttpApiError` or `SalesforceError`): `errorCode` decides; no code means no answer. */
export function classifySalesforce(err: unknown): ApplicationFailure {
  const e = err as { errorCode?: unknown; name?: unknown; statusCode?: unknown };
  const code = typeof e?.errorCode === 'string' ? e.errorCode : undefined;
  const message = `${code ?? 'NO_RESPONSE'}: ${messageOf(err)}`;
  const status = /^ERROR_HTTP_(\d{3})$/.exec(code ?? '')?.[1];
  if (code && !SALESFORCE_TRANSIENT.has(code) && !(status && HTTP_TRANSIENT(Number(status)))) {
    // REQUIRED_FIELD_MISSING, INVALID_FIELD, FIELD_CUSTOM_VALIDATION_EXCEPTION…: a retry would fail the same way.
    return ApplicationFailure.create({
      type: 'SalesforceRejected',
      message,
      nonRetryable: true,
    });
  }
  // The daily API allocation is a rolling 24 h window: hammering it only burns the next requests.
  const nextRetryDelay = code === 'REQUEST_LIMIT_EXCEEDED' ? '15m' : undefined;
  return ApplicationFailure.create({
    type: 'SalesforceUnavailable',
    message,
    nextRetryDelay,
  });
}

/** Clerk Backend API (`ClerkAPIResponseError`): 429 and 5xx are retried after `retryAfter` seconds; other 4xx are not. */
export function classifyClerk(err: unknown): ApplicationFailure {
  const e = err as { status?: unknown; retryAfter?: unknown; errors?: { code?: string; message?: string }[] };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const code = e?.errors?.[0]?.code ?? 'unexpected_error';
  const message = `${status ?? 'NO_RESPONSE'} ${code}: ${mask(e?.errors?.[0]?.message ?? messageOf(err))}`;
  if (!HTTP_TRANSIENT(status)) {
    return ApplicationFailure.create({
      type: 'ClerkRejected',
      message,
      nonRetryable: true,
    });
  }
  const retryAfter = typeof e?.retryAfter === 'number' && e.retryAfter > 0 ? e.retryAfter * 1000 : undefined;
  return ApplicationFailure.create({
    type: 'ClerkUnavailable',
    message,
    nextRetryDelay: retryAfter,
  });
}

/** The `{ error }` Resend's SDK returns instead of throwing. */
export class ResendError extends Error {
  override readonly name = 'ResendError';
  constructor(
    readonly statusCode: number | null,
    readonly errorName: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Resend: 429, 5xx, no answer and a concurrent request with the same idempotency key are retried. */
export function classifyResend(err: unknown): ApplicationFailure {
  const e = err instanceof ResendError ? err : undefined;
  const status = e?.statusCode ?? undefined;
  const message = `${status ?? 'NO_RESPONSE'} ${e?.errorName ?? 'application_error'}: ${messageOf(err)}`;
  if (!HTTP_TRANSIENT(status) && e?.errorName !== 'concurrent_idempotent_requests') {
    return ApplicationFailure.create({
      type: 'ResendRejected',
      message,
      nonRetryable: true,
    });
  }
  const nextRetryDelay = e?.retryAfterSeconds ? e.retryAfterSeconds * 1000 : undefined;
  return ApplicationFailure.create({
    type: 'ResendUnavailable',
    message,
    nextRetryDelay,
  });
}

/** Slack incoming webhook (`@slack/webhook`): 429 (after Retry-After) and 5xx are retried. */
export function classifySlack(err: unknown): ApplicationFailure {
  const response = (
    err as { original?: { response?: { status?: number; headers?: Record<string, unknown> } } }
  )?.original?.response;
  const status = response?.status;
  const message = `${status ?? 'NO_RESPONSE'}: ${messageOf(err)}`;
  if (!HTTP_TRANSIENT(status)) {
    return ApplicationFailure.create({
      type: 'SlackRejected',
      message,
      nonRetryable: true,
    });
  }
  const retryAfter = Number(response?.headers?.['retry-after']);
  const nextRetryDelay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
  return ApplicationFailure.create({
    type: 'SlackUnavailable',
    message,
    nextRetryDelay,
  });
}

/** Wraps each activity so that every failure leaves through `classify`, the one retry decision. */
export function classified<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  classify: (err: unknown) => ApplicationFailure,
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    const run = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err; // already decided, e.g. a non-retryable dead end
        throw classify(err);
      }
    };
    Object.defineProperty(run, 'name', { value: name });
    wrapped[name] = run;
  }
  return wrapped as T;
}
