import { Context } from '@temporalio/activity';
import { IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { credentialAlerts } from './credential-alerts';

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

// Credentials a service refused: a wrong or revoked secret, a disabled connected app. A retry cannot fix them, but
// fixing the configuration (and restarting the worker) does, and every sync waiting on them should then go on by
// itself, without a replay: so they stay retryable, under a type of their own that names the variables to check
// (`SalesforceAuthRejected`, `ClerkAuthRejected`, `ResendAuthRejected`), which the Temporal UI shows on the pending
// activity, and `classified()` reports them (one log line per cause and minute, and a metric: ./credential-alerts).

/** A credential a service refused; `classified()` reports it. */
export interface CredentialRejection {
  /** The failure type, e.g. `SalesforceAuthRejected`. */
  type: string;
  service: 'salesforce' | 'clerk' | 'resend';
  /** The service's own code, e.g. `invalid_client`, `clerk_key_invalid`, `invalid_api_key`. */
  cause: string;
  message: string;
}

const credentialRejections = new WeakMap<ApplicationFailure, CredentialRejection>();

/** The credential a failure made by a classifier here says was refused; undefined for any other failure. */
export const credentialRejectionOf = (failure: ApplicationFailure): CredentialRejection | undefined =>
  credentialRejections.get(failure);

/** The longest wait between two attempts while a credential is refused: a fixed one is used within a minute. */
export const CREDENTIAL_RETRY_MAX_DELAY_MS = 60_000;

/**
 * The wait after attempt `attempt` failed on a refused credential: the activities' own schedule (1 s, doubling:
 * src/workflows/proxies.ts) but capped at one minute instead of five, so that syncs resume at most a minute after
 * the fix. A minute is also slow enough for the services: a pending sync asks once a minute, and Salesforce's token
 * endpoint is asked at most once per few seconds per worker (src/clients.ts). Unknown attempt: the cap.
 */
export function credentialRetryDelayMs(attempt: number | undefined): number {
  if (attempt === undefined || !(attempt >= 1)) return CREDENTIAL_RETRY_MAX_DELAY_MS;
  return Math.min(1000 * 2 ** Math.min(attempt - 1, 30), CREDENTIAL_RETRY_MAX_DELAY_MS);
}

/** The running activity's attempt; undefined outside an activity. */
function currentAttempt(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}

function credentialRejected(
  rejection: Omit<CredentialRejection, 'message'>,
  description: string,
  check: string,
  attempt: number | undefined,
): ApplicationFailure {
  const message = `${rejection.cause}: ${mask(description)} — check ${check}`;
  const failure = ApplicationFailure.create({
    type: rejection.type,
    message,
    nextRetryDelay: credentialRetryDelayMs(attempt),
  });
  credentialRejections.set(failure, { ...rejection, message });
  return failure;
}

/**
 * What to check for each refusal of Salesforce's OAuth token endpoint (HTTP 400 `{error, error_description}`;
 * jsforce throws an Error whose `name` is `error`), and for a fixed session (SALESFORCE_ACCESS_TOKEN) that Salesforce
 * no longer accepts. `rate_limit_exceeded` (too many logins) is not here: it passes.
 */
const SALESFORCE_CREDENTIAL_CHECKS: Record<string, string> = {
  invalid_client_id: 'SALESFORCE_CLIENT_ID',
  invalid_client: 'SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
  invalid_grant:
    "SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET and the connected app's client credentials run-as user",
  unauthorized_client: "the connected app's OAuth policies (client credentials flow, run-as user)",
  unsupported_grant_type: 'that the connected app has the client credentials flow enabled',
  invalid_request: 'SALESFORCE_LOGIN_URL (the client credentials flow needs the My Domain URL)',
  invalid_scope: "the connected app's OAuth scopes (api)",
  inactive_user: "the connected app's run-as user (inactive)",
  inactive_org: 'the Salesforce org (locked, closed or suspended)',
  INVALID_SESSION_ID:
    'SALESFORCE_ACCESS_TOKEN / SALESFORCE_INSTANCE_URL (a fixed session is not renewed; the client credentials flow is)',
};

const hasCheck = (code: string): boolean => Object.hasOwn(SALESFORCE_CREDENTIAL_CHECKS, code);

/**
 * jsforce's session refresh keeps only the message of the error its refresh function fails with, as "Unable to refresh
 * session due to: <message>": src/clients.ts's refresh functions fail with `sessionRefreshRefused`, whose message
 * starts with the code, so that the code survives.
 */
const REFRESH_REFUSED = /^(?:Unable to refresh session due to: )?([A-Za-z_]+): ([\s\S]*)$/;

/** The error src/clients.ts's jsforce refresh functions fail with when Salesforce refused the credentials. */
export function sessionRefreshRefused(code: string, description: string): Error {
  return new Error(`${code}: ${description}`);
}

/**
 * A refusal of Salesforce's token endpoint (jsforce's OAuth error) or `sessionRefreshRefused`: the code and
 * Salesforce's description; undefined for anything else (a REST error has an `errorCode`: never a credential here).
 */
export function salesforceCredentialRefusal(err: unknown): { code: string; description: string } | undefined {
  const e = err as { errorCode?: unknown; name?: unknown; message?: unknown } | null | undefined;
  if (!e || e.errorCode !== undefined) return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.name === 'string' && e.name !== 'INVALID_SESSION_ID' && hasCheck(e.name))
    return { code: e.name, description: message };
  const refused = REFRESH_REFUSED.exec(message);
  if (refused && hasCheck(refused[1]!)) return { code: refused[1]!, description: refused[2]! };
  return undefined;
}

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

/**
 * Salesforce (jsforce `HttpApiError` or `SalesforceError`): `errorCode` decides; no code means no answer, except a
 * refusal of the credentials (`SalesforceAuthRejected`). `attempt` (default: the running activity's) sets the wait
 * after a refused credential.
 */
export function classifySalesforce(err: unknown, attempt = currentAttempt()): ApplicationFailure {
  const refused = salesforceCredentialRefusal(err);
  if (refused) {
    return credentialRejected(
      { type: 'SalesforceAuthRejected', service: 'salesforce', cause: refused.code },
      refused.description,
      SALESFORCE_CREDENTIAL_CHECKS[refused.code]!,
      attempt,
    );
  }
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
  // REQUEST_LIMIT_EXCEEDED names two limits. The daily API allocation ("TotalRequests Limit exceeded.") is a rolling
  // 24 h window: hammering it only burns the next requests, so wait 15 minutes. The cap on concurrent long-running
  // requests ("ConcurrentPerOrgLongTxn Limit exceeded.") clears as those finish, in seconds: the policy's backoff.
  const nextRetryDelay =
    code === 'REQUEST_LIMIT_EXCEEDED' && /^TotalRequests\b/.test(messageOf(err)) ? '15m' : undefined;
  return ApplicationFailure.create({
    type: 'SalesforceUnavailable',
    message,
    nextRetryDelay,
  });
}

/**
 * Clerk Backend API (`ClerkAPIResponseError`): 429 and 5xx are retried after `retryAfter` seconds; 401 (a wrong or
 * revoked secret key) is retried as `ClerkAuthRejected`; other 4xx are not retried.
 */
export function classifyClerk(err: unknown, attempt = currentAttempt()): ApplicationFailure {
  const e = err as { status?: unknown; retryAfter?: unknown; errors?: { code?: string; message?: string }[] };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const code = e?.errors?.[0]?.code ?? 'unexpected_error';
  const description = e?.errors?.[0]?.message ?? messageOf(err);
  if (status === 401) {
    return credentialRejected(
      { type: 'ClerkAuthRejected', service: 'clerk', cause: code },
      `${description} (401)`,
      'CLERK_SECRET_KEY',
      attempt,
    );
  }
  const message = `${status ?? 'NO_RESPONSE'} ${code}: ${mask(description)}`;
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

/** Resend's answers to a missing, wrong, revoked or restricted API key (401 and 403). */
const RESEND_KEY_REFUSED = new Set(['missing_api_key', 'invalid_api_key', 'restricted_api_key']);

/**
 * Resend: 429, 5xx, no answer and a concurrent request with the same idempotency key are retried; so is a refused API
 * key, as `ResendAuthRejected`. A 403 `validation_error` (a sender domain not verified) is not a credential: not
 * retried.
 */
export function classifyResend(err: unknown, attempt = currentAttempt()): ApplicationFailure {
  const e = err instanceof ResendError ? err : undefined;
  const status = e?.statusCode ?? undefined;
  if (e && (RESEND_KEY_REFUSED.has(e.errorName) || status === 401)) {
    return credentialRejected(
      { type: 'ResendAuthRejected', service: 'resend', cause: e.errorName },
      `${e.message}${status ? ` (${status})` : ''}`,
      'RESEND_API_KEY',
      attempt,
    );
  }
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

/**
 * Slack's 429 with the Retry-After it came with. @slack/webhook 8 reports an HTTP error by status and body only, so
 * the client's `fetch` (src/clients.ts) raises this for a 429 instead; the SDK hands it on as the request error's
 * `original`.
 */
export class SlackRateLimited extends Error {
  override readonly name = 'SlackRateLimited';
  constructor(readonly retryAfterSeconds: number | undefined) {
    super(`rate_limited (Retry-After ${retryAfterSeconds ?? 'absent'})`);
  }
}

/** Slack incoming webhook (`@slack/webhook`): 429 (after Retry-After), 5xx and no answer are retried. */
export function classifySlack(err: unknown): ApplicationFailure {
  const limited =
    err instanceof IncomingWebhookRequestError && err.original instanceof SlackRateLimited
      ? err.original
      : undefined;
  const status = err instanceof IncomingWebhookHTTPError ? err.statusCode : limited ? 429 : undefined;
  // Slack answers a plain-text code (`invalid_payload`, `no_service`, `channel_is_archived`…) in the body.
  const code = err instanceof IncomingWebhookHTTPError ? err.body.slice(0, 100) : undefined;
  const message = `${status ?? 'NO_RESPONSE'}: ${code ?? messageOf(err)}`;
  if (!HTTP_TRANSIENT(status)) {
    return ApplicationFailure.create({
      type: 'SlackRejected',
      message,
      nonRetryable: true,
    });
  }
  const retryAfter = limited?.retryAfterSeconds;
  return ApplicationFailure.create({
    type: 'SlackUnavailable',
    message,
    nextRetryDelay: retryAfter ? retryAfter * 1000 : undefined,
  });
}

/**
 * Wraps each activity so that every failure leaves through `classify`, the one retry decision. A cancellation of the
 * activity (Temporal's `CancelledFailure`: its workflow cancelled it, a timeout, a pause, a reset) leaves as it came,
 * so that Temporal records a cancellation, not a failure to retry. A refused credential is reported
 * (./credential-alerts).
 */
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
        if (err instanceof CancelledFailure) throw err;
        // An ApplicationFailure is already decided, e.g. a non-retryable dead end.
        const failure = err instanceof ApplicationFailure ? err : classify(err);
        const rejection = credentialRejectionOf(failure);
        if (rejection) credentialAlerts.report(rejection);
        throw failure;
      }
    };
    Object.defineProperty(run, 'name', { value: name });
    wrapped[name] = run;
  }
  return wrapped as T;
}
