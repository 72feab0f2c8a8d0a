import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { checkClerk, type ClerkSchema } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { noticeHandOver } from './proxies';

/**
 * Validates an event's `data` at the workflow's edge. A payload the product cannot use fails the run at once,
 * saying what is missing (paths only, never values: the message lands in history) — never a retry loop.
 */
export function parseData<T>(schema: ClerkSchema<T>, event: ClerkEvent): T {
  const checked = checkClerk(schema, event.data);
  if (checked.ok) return checked.value;
  throw ApplicationFailure.create({
    type: 'InvalidClerkPayload',
    message: `${event.type} ${event.svixId} cannot be synced: ${checked.problems.map((p) => `data.${p}`).join('; ')}`,
    nonRetryable: true,
  });
}

/**
 * Hands a Slack notice to the task queue's notifier (src/workflows/notices.ts) from the workflow, through an activity
 * on the notifier's queue. Only for a notice that could not leave with the write it reports (a sign-up whose
 * memberships went in batches); every other notice leaves from its write's activity. The notice's id is this
 * workflow's id: one notice per delivery, even when a re-run hands it over again.
 * `text` is plain text: user text goes in as Clerk has it, and the notifier makes all of it inert for Slack.
 */
export async function notify(text: string): Promise<void> {
  const { workflowId, taskQueue } = workflowInfo();
  await noticeHandOver().queueSlackNotice({
    syncQueue: taskQueue,
    notice: { id: workflowId, text, at: Date.now() },
  });
}
