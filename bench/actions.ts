import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Notice } from '../src/shared/notices';

// Temporal actions per event (issue 13), counted from histories: what Temporal Cloud bills (one action each) and
// what the engine does per event. The sync's own history gives its start, activities, timers, child workflows and
// the signals it sends itself; the signals its activities send to the Slack notifier are found in the notifier's
// history by notice id (the svix-id, which is the sync's workflow id).

const E = temporal.api.enums.v1.EventType;

/** One workflow's actions. */
export interface Actions {
  workflowStarts: number;
  activityTasks: number;
  /** Attempts after the first, of any activity. */
  activityRetries: number;
  localActivities: number;
  signals: number;
  timers: number;
  childWorkflows: number;
  searchAttributeUpserts: number;
  total: number;
}

/** No actions. */
export const zero = (): Actions => ({
  workflowStarts: 0,
  activityTasks: 0,
  activityRetries: 0,
  localActivities: 0,
  signals: 0,
  timers: 0,
  childWorkflows: 0,
  searchAttributeUpserts: 0,
  total: 0,
});

/** Sums the categories into `total`. */
export function totalled(a: Actions): Actions {
  const { total: _, ...parts } = a;
  return { ...a, total: Object.values(parts).reduce((s, n) => s + n, 0) };
}

/** The actions in one history (signals its activities send are not in it: see `noticeSignals`). */
export function actionsOf(history: temporal.api.history.v1.IHistory): Actions {
  const a = zero();
  for (const e of history.events ?? []) {
    switch (e.eventType) {
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        a.workflowStarts += 1;
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        a.activityTasks += 1;
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        a.activityRetries += Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case E.EVENT_TYPE_MARKER_RECORDED:
        if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') a.localActivities += 1;
        break;
      case E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        a.signals += 1;
        break;
      case E.EVENT_TYPE_TIMER_STARTED:
        a.timers += 1;
        break;
      case E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        a.childWorkflows += 1;
        break;
      case E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        a.searchAttributeUpserts += 1;
        break;
      default:
    }
  }
  return totalled(a);
}

/** Every run's history of the notifier (it continues as new). */
export async function notifierHistories(
  client: Client,
  notifierId: string,
): Promise<temporal.api.history.v1.IHistory[]> {
  const histories: temporal.api.history.v1.IHistory[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = "${notifierId}"` }))
    histories.push(await client.workflow.getHandle(notifierId, w.runId).fetchHistory());
  return histories;
}

/** The notifier's own actions (messages, timers, runs), and the signals it received, over every run. */
export async function notifierActions(
  client: Client,
  notifierId: string,
): Promise<{ signalsReceived: number; actions: Actions }> {
  const own = zero();
  let signalsReceived = 0;
  for (const history of await notifierHistories(client, notifierId)) {
    const a = actionsOf(history);
    for (const k of Object.keys(own) as (keyof Actions)[]) own[k] += a[k];
    signalsReceived += (history.events ?? []).filter(
      (e) => e.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ).length;
  }
  return { signalsReceived, actions: totalled(own) };
}

/**
 * Notice ids → the signals that handed them to the notifier, over every run of the notifier: a signal that carried
 * k notices counts 1/k for each (one worker's activities share a signal: src/activities/slack.ts).
 */
export async function noticeSignals(client: Client, notifierId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const history of await notifierHistories(client, notifierId)) {
    for (const e of history.events ?? []) {
      const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      if (!payload) continue;
      const notices = defaultPayloadConverter.fromPayload<Notice[]>(payload);
      for (const n of notices) counts.set(n.id, (counts.get(n.id) ?? 0) + 1 / notices.length);
    }
  }
  return counts;
}

/** The mean actions of these syncs (one workflow each), with the signals their activities sent to the notifier. */
export async function actionsPerEvent(
  client: Client,
  workflowIds: readonly string[],
  signalsByNotice: ReadonlyMap<string, number>,
): Promise<Actions> {
  const sum = zero();
  for (const id of workflowIds) {
    const own = actionsOf(await client.workflow.getHandle(id).fetchHistory());
    // A signal the workflow sends shows in both histories; one its activities send, only in the notifier's.
    own.signals = Math.max(own.signals, signalsByNotice.get(id) ?? 0);
    for (const k of Object.keys(sum) as (keyof Actions)[]) sum[k] += own[k];
  }
  const per = zero();
  for (const k of Object.keys(per) as (keyof Actions)[]) per[k] = round2(sum[k] / workflowIds.length);
  return totalled(per);
}

const round2 = (n: number) => Math.round(n * 100) / 100;
