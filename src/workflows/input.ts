import { ApplicationFailure, log } from '@temporalio/workflow';
import type { z } from 'zod';
import type { ClerkEvent } from '../shared/events';
import { slack } from './proxies';

/**
 * Validates an event's `data` at the workflow's edge. A payload the product cannot use fails the run at once,
 * saying what is missing (paths only, never values: the message lands in history) — never a retry loop.
 */
export function parseData<T>(schema: z.ZodType<T>, event: ClerkEvent): T {
  const parsed = schema.safeParse(event.data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `data.${i.path.join('.')}: ${i.message}`).join('; ');
  throw ApplicationFailure.create({
    type: 'InvalidClerkPayload',
    message: `${event.type} ${event.svixId} cannot be synced: ${problems}`,
    nonRetryable: true,
  });
}

/** Posts a Slack notice; a Slack failure is logged and never fails the sync. */
export async function notify(text: string): Promise<void> {
  try {
    await slack().postSlackNotice({ text });
  } catch (err) {
    log.warn('Slack notice not posted', { error: err instanceof Error ? err.message : String(err) });
  }
}

/** A person's name for a notice, never their email: "Ada Lovelace" or the user id. */
export function displayName(u: { first_name?: string | null; last_name?: string | null }, fallback: string): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || fallback;
}
