import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ClerkActivities, EmailActivities, SalesforceActivities, SlackActivities } from '../activities';
import type { BackfillActivities } from '../activities/backfill';
import { emailTaskQueue, slackTaskQueue } from '../shared/task-queues';

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

/** The Slack notice, on its rate-limited queue; given up after ten minutes so that it never holds a sync. */
export function slack() {
  return proxyActivities<SlackActivities>({
    taskQueue: slackTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: '10m',
    retry,
  });
}
