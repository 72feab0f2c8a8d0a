import { FaultHarness, FULL, USERS, type FaultRun } from '../faults/harness';
import { startOwnTemporal, testEngine, type OwnTemporal } from '../helpers/temporal';

// Faults only a real deployment has (issue 18), on the production layout (CLERK_SYNC_TEST_TEMPORAL=cluster: the
// Temporal server on PostgreSQL, src/local/temporal-cluster.ts): the database killed with SIGKILL mid-stream and
// started again; two worker and two API processes sharing the load, one of each killed for good. Same check as the
// fault suite: every delivery answered 2xx has its Salesforce effect, one welcome email each, no failed sync.
// The Temporal server's own restart runs in test/faults on this engine.

const DB_OUTAGE_MS = FULL ? 20_000 : 5_000;
const onCluster = testEngine() === 'cluster';

let temporal: OwnTemporal;
let harness: FaultHarness;

(onCluster ? describe : describe.skip)(`production layout faults (${USERS} users)`, () => {
  jest.setTimeout(FULL ? 900_000 : 300_000);

  beforeAll(async () => {
    temporal = await startOwnTemporal();
    harness = await FaultHarness.start(temporal.address);
  }, 180_000);

  afterAll(async () => {
    harness?.writeReport('cluster-faults-report.json', {
      engine: 'cluster',
      versions: temporal?.cluster?.versions,
    });
    await harness?.close();
    await temporal?.close();
  });

  it(`PostgreSQL killed with SIGKILL mid-stream and started again after ${DB_OUTAGE_MS / 1000} s`, async () => {
    const cluster = temporal.cluster!;
    const run = await harness.startRun();
    let outage: Promise<void> | undefined;
    try {
      await harness.stream(run, (share) => {
        if (!outage && share >= 0.3) {
          outage = (async () => {
            await cluster.killPostgres();
            await new Promise((r) => setTimeout(r, DB_OUTAGE_MS));
            await cluster.startPostgres();
          })();
        }
      });
      await outage;
      await harness.verify(run, `PostgreSQL SIGKILL, down ${DB_OUTAGE_MS / 1000}s`);
      // The outage was felt: deliveries during it were refused (503 or no answer) and retried.
      expect(run.redeliverer.stats.retries).toBeGreaterThan(0);
    } finally {
      await harness.finish(run);
    }
  });

  it('two workers and two APIs share the load; one of each killed with SIGKILL for good mid-stream', async () => {
    const run = await harness.startRun({ apis: 2, workers: 2 });
    let killed = false;
    try {
      await harness.stream(run, (share) => {
        if (!killed && share >= 0.4) {
          killed = true;
          run.apis[0]!.killForGood();
          run.workers[0]!.killForGood();
        }
      });
      const name = 'two workers + two APIs, one of each SIGKILL';
      await harness.verify(run, name);
      const pids = await workerPidsOf(run);
      harness.report[name]!.workerProcessesThatRanTasks = pids.size;
      // Both APIs answered deliveries, both workers ran tasks, and nothing was restarted.
      for (const api of run.apis) expect(api.output.join('')).toMatch(/workflow started/);
      expect(pids.size).toBeGreaterThanOrEqual(2);
      expect(run.apis.map((p) => p.starts)).toEqual([1, 1]);
      expect(run.workers.map((p) => p.starts)).toEqual([1, 1]);
    } finally {
      await harness.finish(run);
    }
  });
});

/** The worker processes (`<pid>@<host>` identities) that ran a workflow or activity task of the run's syncs. */
async function workerPidsOf(run: FaultRun): Promise<Set<string>> {
  const pids = new Set<string>();
  for await (const wf of harness.client.workflow.list({ query: `TaskQueue = '${run.taskQueue}'` })) {
    const history = await harness.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const identity =
        e.workflowTaskStartedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
      if (identity) pids.add(identity.split('@')[0]!);
    }
  }
  return pids;
}
