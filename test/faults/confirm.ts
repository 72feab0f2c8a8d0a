import { temporal } from '@temporalio/proto';
import type { ServiceName } from '@clerk-sync/sandbox';
import { SYNC_WORKFLOW_TYPES } from '../../src/cli/replay';
import { waitUntil } from '../helpers/temporal';
import type { FaultHarness, FaultRun } from './harness';
import type { Supervised } from './processes';

// Proof that a run's fault happened (issue 17): a run that claims a fault fails when the fault did not hit.

const { PendingActivityState } = temporal.api.enums.v1;

/** Calls the given fault rules answered, per service. */
export function faultedCalls(harness: FaultHarness, ids: readonly string[]): Record<ServiceName, number> {
  const counts: Record<ServiceName, number> = { salesforce: 0, clerk: 0, resend: 0, slack: 0 };
  for (const call of harness.sandbox.calls())
    if (call.faultId && ids.includes(call.faultId)) counts[call.service] += 1;
  return counts;
}

/** What shows a SIGKILL cut a sync off mid-way. */
export interface CutOff {
  /** Salesforce calls whose client (the killed worker) went away before the answer. */
  abandonedCalls: number;
  /** Activities the killed worker had started and not completed, as Temporal shows them right after the kill. */
  startedActivities: number;
}

/**
 * SIGKILLs the worker while a sync is mid-way, and shows it: the next Salesforce write is held (a slow call) and the
 * worker killed as soon as it has sent it; then the sandbox sees the call's client gone, and Temporal still shows
 * the activity started and not completed. Throws when no sync was in flight at the kill.
 */
export async function killMidSync(harness: FaultHarness, run: FaultRun, worker: Supervised): Promise<CutOff> {
  const { sandbox } = harness;
  const hold = sandbox.faults.add({
    service: 'salesforce',
    method: 'POST',
    path: /\/composite$/,
    latencyMs: 30_000,
    times: 1,
  });
  // A rule with `times: 1` is retired by the call it holds.
  await waitUntil(
    () => !sandbox.faults.list().some((f) => f.id === hold),
    60_000,
    'a Salesforce write in flight',
  );
  const identity = `${worker.pid}@`;
  worker.kill();
  const abandoned = await waitUntil(
    () => sandbox.calls('salesforce').filter((c) => c.faultId === hold && c.aborted).length,
    10_000,
    'the held Salesforce call abandoned by the killed worker',
  );
  const types = SYNC_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  let started = 0;
  for await (const wf of harness.client.workflow.list({
    query: `TaskQueue = '${run.taskQueue}' AND WorkflowType IN (${types}) AND ExecutionStatus = 'Running'`,
  })) {
    const { raw } = await harness.client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    started += (raw.pendingActivities ?? []).filter(
      (a) =>
        a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
        a.lastWorkerIdentity?.startsWith(identity),
    ).length;
  }
  if (started === 0) throw new Error('no sync had an activity in flight at the worker’s SIGKILL');
  return { abandonedCalls: abandoned, startedActivities: started };
}
