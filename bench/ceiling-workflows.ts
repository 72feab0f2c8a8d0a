import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import { emailTaskQueue, slackTaskQueue } from '../src/shared/task-queues';
import type { CeilingActivities } from './ceiling-activities';

// The engine ceiling: onboardUser's shape with every activity a no-op (or a sleep drawn from the same latency
// profile): a look-up, the write, a welcome email on its own queue, and a notice handed to an abandoned child
// workflow whose one activity runs on a third queue. Same queues, rates and payloads; no I/O, no mapping.

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' } as const;
const sync = proxyActivities<CeilingActivities>({ startToCloseTimeout: '1m', retry });

/** What the starter hands over: an id to record the write under, and the delivery's payload (for its size). */
export interface CeilingInput {
  id: string;
  event: unknown;
}

/** onboardUser with no-op activities. */
export async function ceilingSync(input: CeilingInput): Promise<void> {
  await sync.lookup();
  await sync.write(input.id);
  const { taskQueue, workflowId } = workflowInfo();
  await proxyActivities<CeilingActivities>({
    taskQueue: emailTaskQueue(taskQueue),
    startToCloseTimeout: '30s',
    retry,
  }).email();
  await startChild(ceilingNotice, {
    workflowId: `${workflowId}/notice`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

/** postNotice with a no-op activity. */
export async function ceilingNotice(): Promise<void> {
  await proxyActivities<CeilingActivities>({
    taskQueue: slackTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: '10m',
    retry,
  }).notice();
}
