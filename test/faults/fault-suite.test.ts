import { clerkRateLimited, salesforceFault, slackFault } from '@clerk-sync/sandbox';
import { startOwnTemporal, testEngine, waitUntil, type OwnTemporal } from '../helpers/temporal';
import { FaultHarness, FULL, USERS } from './harness';

// The fault suite: scripted Clerk scenarios streamed through a Svix-like redeliverer into the real processes
// (`clerk-sync api` and `clerk-sync worker`, each under a supervisor that restarts it), while one fault is
// injected per run. Afterwards every event's effect must be in Salesforce, each user must have exactly one
// welcome email and one Slack notice, and no workflow may be left failed (./harness.ts). `npm test` runs a short
// form on both engines (CLERK_SYNC_TEST_TEMPORAL: the dev server, then the Temporal server on PostgreSQL);
// `npm run test:faults` (FAULTS_FULL=1) runs the full durations.
const OUTAGE_MS = FULL ? 20_000 : 5_000;
const STORM_MS = FULL ? 60_000 : 10_000;
const ENGINE = testEngine();

let temporal: OwnTemporal;
let harness: FaultHarness;

beforeAll(async () => {
  // A Temporal of the suite's own: one run stops and restarts it.
  temporal = await startOwnTemporal();
  harness = await FaultHarness.start(temporal.address);
}, 180_000);

afterAll(async () => {
  harness?.writeReport(ENGINE === 'dev' ? 'faults-report.json' : `faults-report-${ENGINE}.json`, {
    engine: ENGINE,
    versions: temporal?.cluster?.versions,
  });
  await harness?.close();
  await temporal?.close();
});

describe(`fault suite (${FULL ? 'full' : 'short'}: ${USERS} users, ${ENGINE})`, () => {
  jest.setTimeout(FULL ? 900_000 : 300_000);

  it('the worker killed with SIGKILL three times mid-stream and restarted', async () => {
    const run = await harness.startRun();
    const worker = run.workers[0]!;
    try {
      // Three crashes while syncs are in flight: each once the restarted worker has been working for a second.
      const crashes = (async () => {
        for (let k = 1; k <= 3; k++) {
          await waitUntil(() => worker.starts === k, 60_000, `worker start ${k}`);
          await worker.up();
          await new Promise((r) => setTimeout(r, 1_000));
          worker.kill();
        }
        await waitUntil(() => worker.starts === 4, 60_000, 'worker start 4');
        await worker.up();
      })();
      await harness.stream(run, () => undefined);
      await crashes;
      await harness.verify(run, 'worker SIGKILL x3');
      expect(worker.starts).toBe(4);
    } finally {
      await harness.finish(run);
    }
  });

  it(`the Temporal server stopped for ${OUTAGE_MS / 1000} s mid-stream and restarted on its persisted state`, async () => {
    const run = await harness.startRun();
    let outage: Promise<void> | undefined;
    try {
      await harness.stream(run, (share) => {
        if (!outage && share >= 0.3) {
          outage = (async () => {
            await temporal.stopServer();
            await new Promise((r) => setTimeout(r, OUTAGE_MS));
            await temporal.startServer();
          })();
        }
      });
      await outage;
      await run.workers[0]!.up();
      await harness.verify(run, `Temporal down ${OUTAGE_MS / 1000}s`);
      expect(run.redeliverer.stats.answered503 + run.redeliverer.stats.noAnswer).toBeGreaterThan(0);
    } finally {
      await harness.finish(run);
    }
  });

  it(`a Salesforce 503 storm (30% of calls for ${STORM_MS / 1000} s), Clerk 429s with Retry-After and Slack 429s`, async () => {
    const { sandbox } = harness;
    const run = await harness.startRun();
    const until = Date.now() + STORM_MS;
    const storm = sandbox.faults.add({
      ...salesforceFault('SERVER_UNAVAILABLE', { probability: 0.3 }),
      until,
    });
    const limited = sandbox.faults.add({ ...clerkRateLimited(1, { probability: 0.3 }), until });
    // Slack's one-message-a-second limit, hit by 30% of the notices: they must never hold up or repeat a sync.
    const slack = sandbox.faults.add({ ...slackFault('rate_limited', { probability: 0.3 }), until });
    try {
      await harness.stream(run, () => undefined);
      const faulted = () =>
        sandbox.calls().filter((c) => c.faultId === storm || c.faultId === limited || c.faultId === slack)
          .length;
      await harness.verify(run, 'Salesforce 503 storm + Clerk 429 + Slack 429');
      harness.report['Salesforce 503 storm + Clerk 429 + Slack 429']!.faultedCalls = faulted();
      expect(faulted()).toBeGreaterThan(0);
    } finally {
      sandbox.faults.clear();
      await harness.finish(run);
    }
  });

  it('the API process killed with SIGKILL mid-stream and restarted', async () => {
    const run = await harness.startRun();
    const api = run.apis[0]!;
    let killed = false;
    try {
      await harness.stream(run, (share) => {
        if (!killed && share >= 0.4) {
          killed = true;
          api.kill();
        }
      });
      await harness.verify(run, 'API SIGKILL');
      expect(api.starts).toBe(2);
    } finally {
      await harness.finish(run);
    }
  });
});
