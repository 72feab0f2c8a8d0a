import type { IncomingWebhook } from '@slack/webhook';
import { withDeadline } from '../deadline';
import { SLACK_REQUEST_TIMEOUT_MS } from '../timeouts';
import { classified, classifySlack } from './errors';

/** Slack activities; `'skipped'` when no SLACK_WEBHOOK_URL is configured. */
export function slackActivities(slack: IncomingWebhook | undefined) {
  return classified(classifySlack, {
    /** Posts a one-line notice (sign-ups, membership changes) to the configured channel. */
    async postSlackNotice(input: { text: string }): Promise<'posted' | 'skipped'> {
      if (!slack) return 'skipped';
      // `send` takes no signal: the client's own `timeout` aborts a request that gets no answer (src/clients.ts);
      // this bounds the whole send as well and stops waiting at once when the activity is cancelled.
      // `timeout: undefined`: @slack/webhook copies its constructor options, `timeout` included, into every
      // payload; undefined keeps it out of the JSON posted to Slack.
      await withDeadline('Slack incoming webhook', SLACK_REQUEST_TIMEOUT_MS, () =>
        slack.send({ text: input.text, timeout: undefined }),
      );
      return 'posted';
    },
  });
}

/** The Slack activities' interface, for `proxyActivities`. */
export type SlackActivities = ReturnType<typeof slackActivities>;
