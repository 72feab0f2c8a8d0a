import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Notice } from '../src/shared/notices';
import { notifierHistories } from './actions';
import { latency, type Latency } from './stats';

// Where a notice's delay goes (issue 13): from its Contact's write to its line in Slack, split at the two moments
// the notifier's history shows (the hand-over's time, which the notice carries, and the signal event), and how long
// each of the notifier's own steps waited on the server (a task scheduled → started is the server and the poller
// catching up; started → completed is the worker and the persistence of the result).

const E = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** p50/p99 of each segment of a notice's delay, and of each notifier step, ms. */
export interface NoticeTimeline {
  /** Contact written (Salesforce's CreatedDate) → the activity handed the notice over (`Notice.at`). */
  writeToHandOver: Latency;
  /** Hand-over → the signal in the notifier's history (the worker's courier and the signal-with-start call). */
  handOverToSignal: Latency;
  /** Signal in the history → the message in Slack (the notifier's task, its pacing and the post). */
  signalToSlack: Latency;
  /** The notifier's steps: workflow and activity tasks waiting to start, running, and timers firing late. */
  notifier: {
    workflowTaskWait: Latency;
    workflowTaskRun: Latency;
    activityWait?: Latency;
    activityRun?: Latency;
    /** Fired − started − requested duration. */
    timerLate?: Latency;
    workflowTasks: number;
  };
}

/** A protobuf timestamp or duration in ms (its seconds are a Long). */
const ms = (
  t: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined,
) =>
  (typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber() ?? 0)) * 1000 +
  Math.floor((t?.nanos ?? 0) / 1e6);

const at = (e: HistoryEvent): number => ms(e.eventTime);

/** Pairs each `end` event with the `start` event it names (by the start's event id). */
function spans(
  events: HistoryEvent[],
  startType: temporal.api.enums.v1.EventType,
  endOf: (e: HistoryEvent) => number | null | undefined,
): number[] {
  const started = new Map<number, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.eventType === startType) started.set(Number(e.eventId), at(e));
    const from = endOf(e);
    if (from != null && started.has(from)) out.push(at(e) - started.get(from)!);
  }
  return out;
}

const orUndefined = (values: number[]): Latency | undefined =>
  values.length > 0 ? latency(values) : undefined;

/**
 * The timeline of a burst's notices: `written` and `posted` are each user's Contact write and first line in Slack
 * (epoch ms); the rest is read from every run of the notifier's history.
 */
export async function noticeTimeline(
  client: Client,
  notifierId: string,
  written: ReadonlyMap<string, number>,
  posted: ReadonlyMap<string, number>,
): Promise<NoticeTimeline> {
  const histories = (await notifierHistories(client, notifierId)).map((h) => h.events ?? []);
  const writeToHandOver: number[] = [];
  const handOverToSignal: number[] = [];
  const signalToSlack: number[] = [];
  for (const e of histories.flat()) {
    const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
    if (!payload) continue;
    for (const n of defaultPayloadConverter.fromPayload<Notice[]>(payload)) {
      const userId = /\((user_[^)]+)\)/.exec(n.text)?.[1];
      if (!userId || !written.has(userId) || !posted.has(userId)) continue;
      writeToHandOver.push(n.at - written.get(userId)!);
      handOverToSignal.push(at(e) - n.at);
      signalToSlack.push(posted.get(userId)! - at(e));
    }
  }
  // Event ids restart with each run: pair events within one run's history.
  const each = (
    startType: temporal.api.enums.v1.EventType,
    endOf: (e: HistoryEvent) => number | null | undefined,
  ) => histories.flatMap((events) => spans(events, startType, endOf));
  const wftStarted = each(
    E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    (e) =>
      e.workflowTaskStartedEventAttributes && Number(e.workflowTaskStartedEventAttributes.scheduledEventId),
  );
  const wftDone = each(
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    (e) =>
      e.workflowTaskCompletedEventAttributes && Number(e.workflowTaskCompletedEventAttributes.startedEventId),
  );
  const actStarted = each(
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    (e) =>
      e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId),
  );
  const actDone = each(
    E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
    (e) =>
      e.activityTaskCompletedEventAttributes && Number(e.activityTaskCompletedEventAttributes.startedEventId),
  );
  const timerLate = histories.flatMap((events) => {
    const timers = new Map<number, { at: number; ms: number }>();
    return events.flatMap((e) => {
      const s = e.timerStartedEventAttributes;
      if (s) timers.set(Number(e.eventId), { at: at(e), ms: ms(s.startToFireTimeout) });
      const t = e.timerFiredEventAttributes && timers.get(Number(e.timerFiredEventAttributes.startedEventId));
      return t ? [at(e) - t.at - t.ms] : [];
    });
  });
  return {
    writeToHandOver: latency(writeToHandOver),
    handOverToSignal: latency(handOverToSignal),
    signalToSlack: latency(signalToSlack),
    notifier: {
      workflowTaskWait: latency(wftStarted),
      workflowTaskRun: latency(wftDone),
      activityWait: orUndefined(actStarted),
      activityRun: orUndefined(actDone),
      timerLate: orUndefined(timerLate),
      workflowTasks: wftDone.length,
    },
  };
}

/** One line for the bench's progress notes. */
export function describeTimeline(t: NoticeTimeline): string {
  const f = (l: Latency | undefined) => (l ? `${l.p50}/${l.p99}` : '-');
  const n = t.notifier;
  return (
    `write→hand-over ${f(t.writeToHandOver)}, hand-over→signal ${f(t.handOverToSignal)}, ` +
    `signal→Slack ${f(t.signalToSlack)} ms (p50/p99); notifier: ${n.workflowTasks} workflow tasks, ` +
    `waited ${f(n.workflowTaskWait)} ran ${f(n.workflowTaskRun)}, activities waited ${f(n.activityWait)} ` +
    `ran ${f(n.activityRun)}, timers late ${f(n.timerLate)} ms`
  );
}
