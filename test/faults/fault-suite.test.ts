import { clerkRateLimited, salesforceFault, slackFault } from '@clerk-sync/sandbox';
import { startOwnTemporal, testEngine, waitUntil, type OwnTemporal } from '../helpers/temporal';
import { faultedCalls, killMidSync, type CutOff } from './confirm';
import { FaultHarness, FULL, USERS, type FaultRun, type Tamper } from './harness';
import type { TimelineEvent } from './timeline';

// The fault suite: scripted Clerk scenarios streamed through a Svix-like redeliverer into the real processes
// (`clerk-sync api` and `clerk-sync worker`, each under a supervisor that restarts it), while one fault is
// injected per run, and each run shows its fault happened. Afterwards every event sent must have one completed
// workflow and its effect in Salesforce, field by field, each user exactly one welcome email, each Slack notice go
// out once (./check.ts). Two negative controls show the check sees losses. `npm test` runs a short form on both
// engines (CLERK_SYNC_TEST_TEMPORAL: the dev server, then the Temporal server on PostgreSQL); `npm run test:faults`
// (FAULTS_FULL=1) runs the full durations.
const OUTAGE_MS = FULL ? 20_000 : 5_000;
const STORM_MS = FULL ? 60_000 : 10_000;
const ENGINE = testEngine();
/** The negative controls prove the check itself, which does not depend on the engine: the dev server's short form. */
const controls = ENGINE === 'dev' && !FULL ? it : it.skip;

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

  it('the worker killed with SIGKILL three times, each with a sync mid-way, and restarted', async () => {
    const run = await harness.startRun();
    const worker = run.workers[0]!;
    const cutOffs: CutOff[] = [];
    try {
      // Three crashes, each the moment a sync's Salesforce write is in flight.
      const crashes = (async () => {
        for (let k = 1; k <= 3; k++) {
          await waitUntil(() => worker.starts === k, 60_000, `worker start ${k}`);
          await worker.up();
          cutOffs.push(await killMidSync(harness, run, worker));
        }
        await waitUntil(() => worker.starts === 4, 60_000, 'worker start 4');
        await worker.up();
      })();
      await harness.stream(run);
      await crashes;
      await harness.verify(run, 'worker SIGKILL x3', { cutOffs });
      expect(worker.starts).toBe(4);
      expect(cutOffs).toHaveLength(3);
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
    // Each target's first call is faulted, so every run hits all three whatever the dice say.
    const first = [
      sandbox.faults.add(
        salesforceFault('SERVER_UNAVAILABLE', { method: 'POST', path: /\/composite$/, times: 1 }),
      ),
      sandbox.faults.add(clerkRateLimited(1, { times: 1 })),
      sandbox.faults.add(slackFault('rate_limited', { times: 1 })),
    ];
    // Then 30% of the rest, from the first Salesforce write on: the storm's seconds fall on the syncs, not on the
    // worker's first workflow task (several seconds on a busy machine).
    const storm = (async () => {
      await waitUntil(
        () => !sandbox.faults.list().some((f) => f.id === first[0]),
        60_000,
        'the first Salesforce write',
      );
      const until = Date.now() + STORM_MS;
      return [
        sandbox.faults.add({ ...salesforceFault('SERVER_UNAVAILABLE', { probability: 0.3 }), until }),
        sandbox.faults.add({ ...clerkRateLimited(1, { probability: 0.3 }), until }),
        // Slack's one-message-a-second limit, hit by 30% of the notices: they must never hold up or repeat a sync.
        sandbox.faults.add({ ...slackFault('rate_limited', { probability: 0.3 }), until }),
      ];
    })();
    storm.catch(() => undefined); // awaited below, after the stream
    try {
      await harness.stream(run);
      const rules = [...first, ...(await storm)];
      const name = 'Salesforce 503 storm + Clerk 429 + Slack 429';
      await harness.verify(run, name);
      const faulted = faultedCalls(harness, rules);
      harness.report[name]!.faultedCalls = faulted;
      // The run fails when a target's fault did not happen.
      expect({
        salesforce: faulted.salesforce > 0,
        clerk: faulted.clerk > 0,
        slack: faulted.slack > 0,
      }).toEqual({
        salesforce: true,
        clerk: true,
        slack: true,
      });
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
      // Deliveries met the dead API: attempts without an answer, retried until the restarted one took them.
      expect(run.redeliverer.stats.noAnswer).toBeGreaterThan(0);
    } finally {
      await harness.finish(run);
    }
  });

  // Negative controls (issue 17): the same check must report losses, naming the events, when the product cannot have
  // applied them. Three users, one event at a time; the last event of the first two users is tampered with. The two
  // runs share their processes (a start costs more than a control's stream).
  describe('negative controls', () => {
    let processes: FaultRun | undefined;
    const controlRun = async () =>
      processes ? harness.followOn(processes) : (processes = await harness.startRun());
    const tamper = (kind: Tamper) => (e: TimelineEvent) => (e.last && e.user < 2 ? kind : undefined);
    afterAll(async () => {
      if (processes) await harness.finish(processes);
    });

    controls('membership webhooks left out of the stream are reported as lost, by name', async () => {
      const run = await controlRun();
      await harness.stream(run, undefined, { users: 3, paced: true, tamper: tamper('omit') });
      const omitted = run.timeline.events.filter((e) => e.fate === 'omitted');
      expect(omitted.map((e) => e.type)).toEqual([
        'organizationMembership.deleted',
        'organizationMembership.updated',
      ]);
      const findings = await harness.check(run, 'control: membership events left out');
      expect(findings.length).toBeGreaterThan(0);
      expect(new Set(findings.map((f) => f.event?.svixId))).toEqual(new Set(omitted.map((e) => e.svixId)));
    });

    controls('Salesforce acknowledging writes it never applies is reported as lost, by name', async () => {
      const run = await controlRun();
      try {
        await harness.stream(run, undefined, { users: 3, paced: true, tamper: tamper('discard') });
      } finally {
        harness.sandbox.faults.clear();
      }
      const discarded = run.timeline.events.filter((e) => e.fate === 'discarded');
      expect(discarded.map((e) => e.type)).toEqual([
        'organizationMembership.deleted',
        'organizationMembership.updated',
      ]);
      const findings = await harness.check(run, 'control: Salesforce writes discarded');
      expect(findings.length).toBeGreaterThan(0);
      expect(new Set(findings.map((f) => f.event?.svixId))).toEqual(new Set(discarded.map((e) => e.svixId)));
    });
  });
});
