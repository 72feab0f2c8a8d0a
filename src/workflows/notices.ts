import {
  condition,
  continueAsNew,
  defineSignal,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { MESSAGE_INTERVAL_MS, NOTICES_SIGNAL, nextMessage, type Notice } from '../shared/notices';
import { slackMessages, slackPosts } from './proxies';

/** Hands notices to the notifier: sent by activities (src/activities/slack.ts `noticeCourier`). */
export const noticesSignal = defineSignal<[Notice[]]>(NOTICES_SIGNAL);

/** What one run of the notifier hands to the next. */
export interface NotifierState {
  /** Notices received and not yet posted, oldest first. */
  pending: Notice[];
  /** Ids of the latest notices received (at most `REMEMBERED`), so that a repeated hand-over posts once. */
  seen: string[];
  /** Notices dropped because more than `MAX_PENDING` were waiting (Slack unavailable for long), not yet reported. */
  dropped?: number;
}

/** Issue 13: messages are posted by a local activity (`slackPosts`); runs begun before scheduled activity tasks. */
const LOCAL_POST = 'notices-local-post';

/** Notice ids remembered across runs: a retried hand-over comes seconds or minutes after the first. */
const REMEMBERED = 2_000;

/**
 * Notices kept waiting at most (about 1 MB of state): more only pile up while Slack refuses messages for long, and
 * once it is back a message of the backlog size takes hundreds, so these drain within a minute. Older ones beyond
 * are dropped and counted in the next message.
 */
const MAX_PENDING = 10_000;

/**
 * History events, or bytes, after which a run continues as new. A signal carries one worker's notices of a moment
 * (one notice each when they come slowly, hundreds in a burst) and a message is a handful of events, so a run covers
 * at least a thousand notices; a worker that loses its cache replays at most this much.
 */
const HISTORY_EVENTS = 2_500;
const HISTORY_BYTES = 4 * 1024 * 1024;

/**
 * The Slack notifier of a task queue (issue 13): receives the syncs' notices in signals (sent by the activities
 * whose writes made them true) and posts what is waiting as one message (one line per notice), at most one message
 * every `MESSAGE_INTERVAL_MS`, so notices keep up with any sign-up rate and Slack's one message a second is never
 * exceeded. Pending notices live in this workflow's history: a worker or server restart loses none. A message is
 * posted by a local activity within the workflow task that took its notices in (no activity task between a signal
 * and Slack); one Slack refuses for a while (429 with `Retry-After`, 5xx) is retried after that wait (a durable
 * timer past the first second), one it refuses for good is logged and dropped. Like an activity, a post whose
 * worker dies before the result is recorded is posted again: a message may repeat, a notice is never lost.
 */
export async function postSlackNotices(state: NotifierState = { pending: [], seen: [] }): Promise<never> {
  const pending = [...state.pending];
  const seen = new Set(state.seen);
  let dropped = state.dropped ?? 0;
  setHandler(noticesSignal, (notices) => {
    for (const notice of notices) {
      if (seen.has(notice.id)) continue;
      seen.add(notice.id);
      if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
      pending.push(notice);
    }
    if (pending.length > MAX_PENDING) dropped += pending.splice(0, pending.length - MAX_PENDING).length;
  });
  let lastPost = -Infinity;
  for (;;) {
    await condition(() => pending.length > 0);
    // Whatever arrives until a second after the last message goes in the next one. The timer alone is not enough:
    // while signals keep coming, the server fired it many seconds late (issue 13's bench), so every workflow task a
    // signal brings checks the time too (workflow time is each task's start).
    const next = lastPost + MESSAGE_INTERVAL_MS;
    if (next > Date.now()) await condition(() => Date.now() >= next, next - Date.now());
    if (dropped > 0) {
      const at = Date.now();
      pending.unshift({
        id: `dropped@${at}`,
        text: `(${dropped} older notices dropped while Slack was unavailable)`,
        at,
      });
      dropped = 0;
    }
    const { text, taken } = nextMessage(pending);
    const notices = pending.splice(0, taken);
    lastPost = Date.now();
    try {
      await (patched(LOCAL_POST) ? slackPosts : slackMessages).postSlackMessage({ text });
    } catch (err) {
      log.warn('Slack message not posted', {
        notices: notices.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    const { historyLength, historySize, continueAsNewSuggested } = workflowInfo();
    if (historyLength > HISTORY_EVENTS || historySize > HISTORY_BYTES || continueAsNewSuggested) {
      return continueAsNew<typeof postSlackNotices>({ pending, seen: [...seen], dropped });
    }
  }
}
