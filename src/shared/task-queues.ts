// The welcome email runs on a task queue of its own, rate-limited by the server for all workers together (Resend
// allows a few requests a second): a burst of sign-ups then never meets Resend's 429s, and never slows the sync.
// The Slack notifier (src/workflows/notices.ts) runs on a queue of its own, unlimited: it paces its messages itself,
// and its workflow tasks never wait behind a burst of syncs' tasks on the main queue.

/** The welcome-email task queue beside the main one. */
export const emailTaskQueue = (taskQueue: string): string => `${taskQueue}-email`;

/** Welcome emails a second, across every worker of the queue (server-enforced). */
export const EMAIL_RATE = 4;

/** The Slack notifier's task queue (its workflow and its messages) beside the main one. */
export const noticesTaskQueue = (taskQueue: string): string => `${taskQueue}-notices`;
