// The welcome email and the Slack notice run on task queues of their own, rate-limited by the server for all
// workers together (Resend ≈ 5 requests/s, Slack ≈ 1 message/s per channel), so they never slow the sync.

/** The welcome-email task queue beside the main one. */
export const emailTaskQueue = (taskQueue: string): string => `${taskQueue}-email`;

/** The Slack task queue beside the main one. */
export const slackTaskQueue = (taskQueue: string): string => `${taskQueue}-slack`;

/** Server-enforced rates (activities per second, across every worker of the queue). */
export const NOTIFICATION_RATES = { email: 4, slack: 1 } as const;
