import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { IncomingWebhook } from '@slack/webhook';
import { withDeadline } from '../deadline';
import { NOTICES_SIGNAL, NOTIFIER_WORKFLOW, notifierWorkflowId, type Notice } from '../shared/notices';
import { noticesTaskQueue } from '../shared/task-queues';
import { SLACK_REQUEST_TIMEOUT_MS } from '../timeouts';
import { classified, classifySlack } from './errors';

/** Notices one signal carries at most (about 200 bytes each: far below Temporal's 2 MB payload limit). */
const NOTICES_PER_SIGNAL = 500;

interface Waiting {
  notice: Notice;
  resolve: () => void;
  reject: (failure: ApplicationFailure) => void;
}

/**
 * Hands notices to the notifier of a sync task queue (issue 13), from the activity whose write made each one true,
 * so a notice never waits for another workflow task of its sync. One signal-with-start (which also starts the
 * notifier when it does not run: the first notice ever, or after an operator terminated it) carries every notice
 * that this worker's activities handed over while the previous signal was in flight: a burst of 200 sign-ups would
 * otherwise be 200 signals queued on the one notifier's lock, holding each activity for seconds. Each activity waits
 * until its notice is in the notifier's history; a failed signal fails every activity it carried, and their retries
 * hand the notices over again: the notifier drops a notice id it has seen.
 */
export function noticeCourier() {
  const queues = new Map<string, { waiting: Waiting[]; sending: boolean }>();

  async function send(syncQueue: string, client: Client): Promise<void> {
    const queue = queues.get(syncQueue)!;
    queue.sending = true;
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, NOTICES_PER_SIGNAL);
      try {
        await client.workflow.signalWithStart(NOTIFIER_WORKFLOW, {
          workflowId: notifierWorkflowId(syncQueue),
          taskQueue: noticesTaskQueue(syncQueue),
          signal: NOTICES_SIGNAL,
          signalArgs: [batch.map((w) => w.notice)],
          staticSummary: 'Slack notices',
        });
        for (const w of batch) w.resolve();
      } catch (err) {
        // Temporal's own error, not the activity's system's: retried, and named as what it is in the UI.
        const failure = ApplicationFailure.create({
          type: 'NoticeNotHandedOver',
          message: `Slack notice not handed to ${notifierWorkflowId(syncQueue)}: ${err instanceof Error ? err.message : String(err)}`,
        });
        for (const w of batch) w.reject(failure);
      }
    }
    queue.sending = false;
  }

  return {
    /** Resolves once `notice` is in the notifier's history of `syncQueue`. Call from an activity. */
    handOver(syncQueue: string, notice: Notice): Promise<void> {
      const { client } = Context.current();
      let queue = queues.get(syncQueue);
      if (!queue) queues.set(syncQueue, (queue = { waiting: [], sending: false }));
      const handed = new Promise<void>((resolve, reject) => queue.waiting.push({ notice, resolve, reject }));
      if (!queue.sending) void send(syncQueue, client);
      return handed;
    },
  };
}

/** A worker's courier of notices to the notifier (`noticeCourier`). */
export type NoticeCourier = ReturnType<typeof noticeCourier>;

/** Slack activities; a message is `'skipped'` when no SLACK_WEBHOOK_URL is configured. */
export function slackActivities(slack: IncomingWebhook | undefined, courier = noticeCourier()) {
  return {
    ...classified(classifySlack, {
      /** Posts one message of notices (one line each, already made inert) to the configured channel. */
      async postSlackMessage(input: { text: string }): Promise<'posted' | 'skipped'> {
        if (!slack) return 'skipped';
        // `send` takes no signal: the client's own `timeout` aborts a request that gets no answer (src/clients.ts);
        // this bounds the whole send as well and stops waiting at once when the activity is cancelled.
        await withDeadline('Slack incoming webhook', SLACK_REQUEST_TIMEOUT_MS, () =>
          slack.send({ text: input.text }),
        );
        return 'posted';
      },
    }),

    /**
     * Hands a notice to the notifier from a workflow: a sign-up whose memberships went in batches after the Contact,
     * so its notice could not leave with the Contact's write. Runs on the notifier's own queue, beside it.
     */
    async queueSlackNotice(input: { syncQueue: string; notice: Notice }): Promise<'handed over' | 'off'> {
      if (!slack) return 'off';
      await courier.handOver(input.syncQueue, input.notice);
      return 'handed over';
    },
  };
}

/** The Slack activities' interface, for `proxyActivities`. */
export type SlackActivities = ReturnType<typeof slackActivities>;
