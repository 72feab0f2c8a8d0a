import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { ClerkActivities, EmailActivities, SalesforceActivities, SlackActivities } from '../activities';
import type { BackfillActivities } from '../activities/backfill';
import { emailTaskQueue, noticesTaskQueue } from '../shared/task-queues';

// Every activity proxy of the product. No `maximumAttempts`: only the classifiers (activities/errors.ts)
// stop retries; transient failures are retried with backoff capped at five minutes.

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' } as const;

/** Salesforce writes: one composite call each, so a minute covers a slow org. */
export const salesforce = proxyActivities<SalesforceActivities>({ startToCloseTimeout: '1m', retry });

/**
 * Salesforce work of any size (an organization's members, a user's organizations): rounds of calls that heartbeat
 * after each call, so a worker that dies mid-way is noticed within the heartbeat timeout and the next attempt
 * resumes where it was. The start-to-close timeout only bounds one attempt of a very large organization.
 */
export const salesforceBulk = proxyActivities<SalesforceActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry,
});

/** Clerk Backend API look-ups; the SDK has no timeout of its own. */
export const clerk = proxyActivities<ClerkActivities>({ startToCloseTimeout: '30s', retry });

/** Backfill pages: a page heartbeats between its Clerk calls, so a stuck attempt is retried after a minute. */
export const backfill = proxyActivities<BackfillActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry,
});

/** The welcome email, on its rate-limited queue. */
export function email() {
  return proxyActivities<EmailActivities>({
    taskQueue: emailTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30s',
    retry,
  });
}

/**
 * The Slack notifier's messages (src/workflows/notices.ts: it paces them itself), posted by a local activity in the
 * notifier's own workflow task: under a burst every server round trip of the notifier waits on the syncs' writes, and
 * an activity task costs three of them before the post and after it (issue 13). A message Slack keeps refusing is
 * given up after ten minutes, so that the notices behind it go out. A wait longer than `localRetryThreshold` (Slack's
 * Retry-After, a backoff past the first seconds) is a durable timer of the notifier, not a sleep in the worker: a
 * worker shutting down waits for one attempt at most, and a restart keeps the wait.
 */
export const slackPosts = proxyLocalActivities<SlackActivities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '10m',
  localRetryThreshold: '1s',
  retry,
});

/** The same messages as activity tasks on the notifier's queue: runs that began before `slackPosts` still use them. */
export const slackMessages = proxyActivities<SlackActivities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '10m',
  retry,
});

/**
 * A workflow's hand-over of a notice (`notify`): on the notifier's queue, so that it never waits behind a burst of
 * syncs' tasks.
 */
export function noticeHandOver() {
  return proxyActivities<SlackActivities>({
    taskQueue: noticesTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '15s',
    retry,
  });
}
