import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { checkClerk, type ClerkSchema } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { postNotice } from './notice';

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
 * Hands a Slack notice to a workflow of its own that outlives this one: Slack's rate limit (one message a second)
 * then never holds a sync open, and a Slack failure never fails it. One notice per delivery, even across re-runs.
 * `text` is plain text: user text goes in as Clerk has it, and `postNotice` makes all of it inert for Slack.
 */
export async function notify(text: string): Promise<void> {
  const { workflowId } = workflowInfo();
  try {
    await startChild(postNotice, {
      args: [{ text }],
      workflowId: `${workflowId}/slack-notice`,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Slack notice for ${workflowId}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** A person's name for a notice, never their email: "Ada Lovelace" or the user id. */
export function displayName(
  u: { first_name?: string | null; last_name?: string | null },
  fallback: string,
): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || fallback;
}
