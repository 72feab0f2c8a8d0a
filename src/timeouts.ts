// Every outbound call's time limit, in one place, each with its reason. Plain numbers only: workflow code may
// import this file (the activities' start-to-close timeouts live next to the limits they must exceed).
//
// The rule: a call that gets no answer fails its activity attempt with a retryable "no answer" failure well
// before the attempt's start-to-close timeout, so that a hung service costs one attempt (and a clear reason in
// the history), never a worker slot held until Temporal gives up on it.

/**
 * Start-to-close timeout of each activity group (src/workflows/proxies.ts, which may import these), in ms: the
 * ceiling every request limit below stays well under (test/unit/outbound-timeouts.test.ts checks at most half).
 * Long activities (salesforceBulk, backfill) heartbeat every minute at most: each request limit is under that too.
 */
export const ACTIVITY_START_TO_CLOSE_MS = {
  salesforce: 60_000,
  clerk: 30_000,
  email: 30_000,
  slack: 15_000,
} as const;

/** Heartbeat timeout of the long activities (salesforceBulk, backfill), in ms: no single request may outlast it. */
export const LONG_ACTIVITY_HEARTBEAT_MS = 60_000;

/**
 * One Salesforce REST or SOAP request of the worker (jsforce, its own retries of GET 5xx included). A composite
 * of 25 subrequests or an sObject Collection of 200 records answers in a few seconds even with triggers and
 * flows; 20 s is several times that, a third of the 1-minute activity, and under the 1-minute heartbeat timeout
 * of the long Salesforce and backfill activities (they heartbeat between calls, not during one).
 */
export const SALESFORCE_REQUEST_TIMEOUT_MS = 20_000;

/**
 * The OAuth 2.0 token request (client credentials), first login and every refresh after INVALID_SESSION_ID.
 * Salesforce answers it in well under a second; it is shared by every Salesforce activity of the worker, so a
 * hung one must fail quickly: after 15 s the waiting attempts fail once and the next attempt asks again.
 */
export const SALESFORCE_TOKEN_TIMEOUT_MS = 15_000;

/**
 * One Salesforce request of `clerk-sync salesforce setup` (no activity around it): synchronous Metadata API
 * writes that create custom fields can take minutes. Ten minutes is Salesforce's own limit for a synchronous
 * API request, so the CLI waits as long as Salesforce itself would, and no longer.
 */
export const SALESFORCE_SETUP_REQUEST_TIMEOUT_MS = 600_000;

/**
 * One Clerk Backend API request (a page of up to 500 memberships or organizations, or an organization created).
 * Clerk answers even a full page in about a second; 10 s is a third of the 30-second activity, so an attempt whose
 * call hangs fails with its own reason, not Temporal's start-to-close timeout.
 */
export const CLERK_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The welcome email (`POST /emails`). Resend answers in under a second; 10 s is a third of the 30-second activity.
 * A send that timed out after Resend accepted it is safe to retry: the idempotency key makes it the same email.
 */
export const RESEND_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The Slack notice (incoming webhook). Slack answers in well under a second; the limit stays long enough that a
 * slow answer is waited for (a retried webhook post is a second notice: Slack has no idempotency key) and short
 * enough to fail inside the 15-second activity with its own reason.
 */
export const SLACK_REQUEST_TIMEOUT_MS = 10_000;
