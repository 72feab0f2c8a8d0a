import type { MembershipSync } from './mapping';
import { slackText } from './slack-text';

// Slack notices (issue 13): the activity that makes a notice true (the Contact's or the membership's write) hands
// it to one long-lived notifier workflow per task queue, which posts everything that became true within about a
// second as one message, at most one message a second. The texts are built here, for the activities and the
// workflows alike.

/** One notice: a line of plain text, and the id that makes a repeated hand-over (a retried signal) post once. */
export interface Notice {
  /** The sync's workflow id (its svix-id): one notice per delivery. */
  id: string;
  /** Plain text, as Clerk has the names; made inert for Slack when the message is built. */
  text: string;
  /** When it became true (epoch ms, the sync's workflow clock). */
  at: number;
}

/** A person's name for a notice, never their email: "Ada Lovelace" or the user id. */
export function displayName(
  u: { first_name?: string | null; last_name?: string | null },
  fallback: string,
): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || fallback;
}

/**
 * A sign-up's notice: who, and the organizations this delivery joined them to (a few by name, then how many more).
 * `joined` holds only memberships already written: a notice never claims what Salesforce does not have yet.
 */
export function signUpNotice(who: string, userId: string, joined: readonly MembershipSync[]): string {
  const named = joined.slice(0, 5).map((m) => `${m.account.Name} as ${m.membership.Role__c}`);
  const more = joined.length > named.length ? `, and ${joined.length - named.length} more` : '';
  return `New sign-up: ${who} (${userId})${named.length > 0 ? `, joined ${named.join(', ')}${more}` : ''}`;
}

/** A membership event's notice once its write is done: joined, role changed, or left. */
export function membershipNotice(
  change: 'created' | 'updated' | 'removed',
  m: { who: string; organization: string; role: string },
): string {
  if (change === 'created') return `${m.who} joined ${m.organization} as ${m.role}`;
  if (change === 'updated') return `${m.who} is now ${m.role} in ${m.organization}`;
  return `${m.who} left ${m.organization}`;
}

/** The signal that hands notices to the notifier: every notice a worker's activities handed over meanwhile. */
export const NOTICES_SIGNAL = 'notices';

/** The notifier's workflow type. */
export const NOTIFIER_WORKFLOW = 'postSlackNotices';

/**
 * The notifier's workflow id: one per task queue, i.e. per deployment and its one `SLACK_WEBHOOK_URL`. The URL is a
 * secret and workflows never see configuration, so the id names the queue, never the URL.
 */
export const notifierWorkflowId = (taskQueue: string): string => `slack-notices/${taskQueue}`;

/** At least this long between two messages of one notifier: Slack allows about one message a second per URL. */
export const MESSAGE_INTERVAL_MS = 1_000;

/** A message's text up to here while little is waiting: Slack's recommended length. */
export const MESSAGE_CHARS = 4_000;

/** A message's text up to here while more is waiting than one message of `MESSAGE_CHARS` holds: Slack truncates past 40,000. */
export const BACKLOG_MESSAGE_CHARS = 39_000;

/**
 * The next message: as many waiting notices as fit, oldest first, one line each (made inert for Slack). A line
 * longer than a message on its own is cut. Returns the text and how many notices it took.
 */
export function nextMessage(pending: readonly Notice[]): { text: string; taken: number } {
  const lines = pending.map((n) => slackText(n.text));
  const waiting = lines.reduce((n, line) => n + line.length + 1, 0);
  const limit = waiting > MESSAGE_CHARS ? BACKLOG_MESSAGE_CHARS : MESSAGE_CHARS;
  let length = 0;
  let taken = 0;
  for (const line of lines) {
    const added = (taken > 0 ? 1 : 0) + line.length;
    if (taken > 0 && length + added > limit) break;
    length += added;
    taken += 1;
  }
  const text = lines.slice(0, taken).join('\n');
  return { text: text.length > limit ? `${text.slice(0, limit - 1)}…` : text, taken };
}
