import type { Connection as TemporalConnection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type Outcome, ok, fail, list } from './check';

// doctor: is a worker polling this task queue? The server's list of pollers (DescribeTaskQueue) keeps a worker that
// has just stopped for a minute or more: its last poll looks as recent as a live worker's. A worker of SDK 1.24+ says
// when it stops: on a graceful shutdown it sends the server a last heartbeat with the status SHUTTING_DOWN, which
// ListWorkers returns (Temporal 1.32 records heartbeats by default). A poller whose worker has sent that since its
// last poll is gone for certain; without such a heartbeat (a crash, an older SDK or server), age decides.

/**
 * A poller whose last poll is older than this is gone: a live worker renews its long poll every minute or so. Only
 * for a worker that stopped without saying so (a crash): a graceful shutdown is known at once.
 */
export const POLLER_FRESH_MS = 90_000;

const { TaskQueueType, WorkerStatus } = temporal.api.enums.v1;
const STOPPING = new Set<number>([
  WorkerStatus.WORKER_STATUS_SHUTTING_DOWN,
  WorkerStatus.WORKER_STATUS_SHUTDOWN,
]);

/** A worker identity's latest poll on the queue (either task type). */
interface Poll {
  identity: string;
  at: number;
  buildId?: string;
}

/** Runs one call within the check's deadline. */
export type Call = <T>(fn: () => Promise<T>) => Promise<T>;

/** Who polls `queue`, and which of them has said it shut down since its last poll. */
export async function pollerOutcome(
  call: Call,
  conn: TemporalConnection,
  namespace: string,
  queue: string,
): Promise<Outcome> {
  const [polls, shutdowns] = await Promise.all([
    pollsOf(call, conn, namespace, queue),
    shutdownsOf(call, conn, namespace, queue),
  ]);
  const now = Date.now();
  const live: Poll[] = [];
  const gone: string[] = [];
  for (const poll of polls) {
    const shutdown = shutdowns.get(poll.identity);
    const lastPoll = `last poll ${when(poll.at, now)}`;
    // Poll times are whole seconds: a shutdown in the second of the last poll came after it.
    if (shutdown !== undefined && shutdown >= poll.at)
      gone.push(`${poll.identity} shut down ${when(shutdown, now)}, after its ${lastPoll}`);
    else if (now - poll.at < POLLER_FRESH_MS) live.push(poll);
    else gone.push(`${poll.identity}: ${lastPoll}`);
  }
  if (live.length > 0) {
    const builds = [...new Set(live.map((p) => p.buildId).filter(Boolean))];
    const build = builds.length > 0 ? `, build ${builds.join(', ')}` : '';
    const also = gone.length > 0 ? `; ${list(gone)}` : '';
    const n = live.length;
    return ok(`${n} worker${n > 1 ? 's' : ''} polling (${list(live.map((p) => p.identity))}${build})${also}`);
  }
  const fix = 'start `clerk-sync worker` with this TEMPORAL_TASK_QUEUE';
  return fail(gone.length > 0 ? `no worker polling: ${list(gone)}` : 'no worker polling', fix);
}

/** `12 s ago (2026-01-31T14:26:30Z)`. */
function when(at: number, now: number): string {
  const ago = Math.max(0, Math.round((now - at) / 1000));
  return `${ago} s ago (${new Date(at).toISOString().replace(/\.\d+Z$/, 'Z')})`;
}

/** The latest poll of each identity, workflow and activity pollers together. */
async function pollsOf(
  call: Call,
  conn: TemporalConnection,
  namespace: string,
  queue: string,
): Promise<Poll[]> {
  const latest = new Map<string, Poll>();
  for (const taskQueueType of [
    TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  ]) {
    const res = await call(() =>
      conn.workflowService.describeTaskQueue({ namespace, taskQueue: { name: queue }, taskQueueType }),
    );
    for (const p of res.pollers ?? []) {
      const identity = p.identity || '?';
      const at = seconds(p.lastAccessTime);
      const buildId = p.deploymentOptions?.buildId || p.workerVersionCapabilities?.buildId || undefined;
      const seen = latest.get(identity);
      if (!seen || at > seen.at) latest.set(identity, { identity, at, buildId: buildId ?? seen?.buildId });
    }
  }
  return [...latest.values()];
}

/** Identity → when its latest worker on `queue` said it was shutting down, from the heartbeats ListWorkers returns. */
async function shutdownsOf(
  call: Call,
  conn: TemporalConnection,
  namespace: string,
  queue: string,
): Promise<Map<string, number>> {
  const latest = new Map<string, { at: number; stopping: boolean }>();
  let nextPageToken: Uint8Array | undefined;
  try {
    do {
      const token = nextPageToken;
      const res = await call(() =>
        conn.workflowService.listWorkers({
          namespace,
          query: `TaskQueue = '${queue.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
          pageSize: 100,
          ...(token && { nextPageToken: token }),
        }),
      );
      // `workersInfo` carries the heartbeat's time (the lighter `workers` does not): when the worker stopped.
      for (const info of res.workersInfo ?? []) {
        const hb = info.workerHeartbeat;
        if (!hb?.workerIdentity) continue;
        const at = seconds(hb.heartbeatTime);
        const seen = latest.get(hb.workerIdentity);
        if (!seen || at >= seen.at)
          latest.set(hb.workerIdentity, { at, stopping: STOPPING.has(hb.status ?? 0) });
      }
      nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
    } while (nextPageToken);
  } catch {
    // An older server without ListWorkers, or one that refuses it: the pollers' age decides alone.
  }
  const shutdowns = new Map<string, number>();
  for (const [identity, { at, stopping }] of latest) if (stopping) shutdowns.set(identity, at);
  return shutdowns;
}

/** A protobuf Timestamp (seconds as a Long) in ms. */
function seconds(ts: { seconds?: unknown } | null | undefined): number {
  return Number(ts?.seconds ?? 0) * 1000;
}
