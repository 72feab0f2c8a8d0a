import { log } from '@temporalio/workflow';
import { slackText } from '../shared/slack-text';
import { slack } from './proxies';

/**
 * Posts one Slack notice on the rate-limited Slack queue; gives up after the proxy's ten minutes, logging why.
 * `text` is plain text (names, organization names, roles as Clerk has them): Slack shows it as typed, never as
 * mentions or links (issue 12).
 */
export async function postNotice(input: { text: string }): Promise<'posted' | 'skipped' | 'not posted'> {
  try {
    return await slack().postSlackNotice({ text: slackText(input.text) });
  } catch (err) {
    log.warn('Slack notice not posted', { error: err instanceof Error ? err.message : String(err) });
    return 'not posted';
  }
}
