import { log } from '@temporalio/workflow';
import { slack } from './proxies';

/** Posts one Slack notice on the rate-limited Slack queue; gives up after the proxy's ten minutes, logging why. */
export async function postNotice(input: { text: string }): Promise<'posted' | 'skipped' | 'not posted'> {
  try {
    return await slack().postSlackNotice(input);
  } catch (err) {
    log.warn('Slack notice not posted', { error: err instanceof Error ? err.message : String(err) });
    return 'not posted';
  }
}
