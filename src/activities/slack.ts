import type { IncomingWebhook } from '@slack/webhook';
import { classified, classifySlack } from './errors';

/** Slack activities; `'skipped'` when no SLACK_WEBHOOK_URL is configured. */
export function slackActivities(slack: IncomingWebhook | undefined) {
  return classified(classifySlack, {
    /** Posts a one-line notice (sign-ups, membership changes) to the configured channel. */
    async postSlackNotice(input: { text: string }): Promise<'posted' | 'skipped'> {
      if (!slack) return 'skipped';
      await slack.send({ text: input.text });
      return 'posted';
    },
  });
}

/** The Slack activities' interface, for `proxyActivities`. */
export type SlackActivities = ReturnType<typeof slackActivities>;
