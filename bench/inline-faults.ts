import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clerkRateLimited,
  playScenario,
  salesforceFault,
  slackFault,
  type ClerkEvent,
} from '@clerk-sync/sandbox';
import { Redeliverer, type DeliveryStats } from '../test/helpers/redeliverer';
import { checkAgainstClerk, type StateCheck } from './clerk-state-check';
import { scriptedUser, scripts } from './inline-workload';
import { freePort, workerEnv, type Bench } from './stack';

// The inline handler under the fault runs of `npm run test:faults` that apply to it (it has no Temporal and no
// separate worker, so its one process takes the worker's and the API's SIGKILLs): the same scripted users
// (./inline-workload.ts) with Clerk following the timeline as in the fault suite (each change reaches the sandbox's
// Clerk as its webhook leaves), the same Svix-like redeliverer and trickle, the same faults; then every user's
// records compared with Clerk's final state field by field, emails and Slack notices (./clerk-state-check.ts).

/** One fault run's counts, comparable with test-output/faults-report.json's. */
export interface InlineFaultRun extends DeliveryStats, Omit<StateCheck, 'wrong'> {
  users: number;
  /** Differences from Clerk's final state (`wrong` lists the first 20). */
  wrongRecords: number;
  wrong: string[];
  processStarts: number;
  /** SIGKILL run: deliveries awaiting an answer at each kill (the kill cut them off, or they were between retries). */
  inFlightAtKills?: number[];
  /** Storm run: calls each service answered with the storm's fault instead (each must be > 0). */
  faultedCalls?: number;
  faultedBy?: { salesforce: number; clerk: number; slack: number };
}

/** The inline handler's process, restartable. */
class InlineProcess {
  starts = 0;
  private child: ChildProcess | undefined;

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.starts += 1;
    const child = spawn(process.execPath, [join(__dirname, 'inline-process.js')], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000); // the last of it: why it stopped
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('inline listening')) resolve();
      });
      child.once('exit', (code) =>
        reject(
          new Error(`inline handler exited with ${code} before listening (start ${this.starts}): ${stderr}`),
        ),
      );
    });
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** What a fault does as the stream goes: called after every acknowledgement with the share acknowledged. */
type Inject = (p: InlineProcess, acked: number, inFlight: number) => void;

/** One run: a fresh process and sandbox, `prepare` (faults to add), the stream (users side by side), the check. */
async function faultRun(
  bench: Bench,
  inject: Inject,
  prepare = (): void => undefined,
): Promise<InlineFaultRun> {
  bench.sandbox.reset();
  bench.sandbox.services.salesforce.setDailyApiLimit(1e9);
  prepare();
  const port = await freePort();
  const proc = new InlineProcess({ ...workerEnv(bench, 'unused:7233', 'unused'), PORT: String(port) });
  await proc.start();
  const redeliverer = new Redeliverer(`http://127.0.0.1:${port}/webhooks/clerk`, bench.secret);
  const users = scripts(bench.settings.inline.faults.users).map((steps) => ({
    steps,
    events: [] as ClerkEvent[],
  }));
  const total = users.reduce((n, u) => n + u.steps.length, 0);
  let inFlight = 0;
  try {
    await Promise.all(
      users.map(async ({ steps, events }, i) => {
        await sleep(i * 150); // the fault suite's steady trickle
        // Clerk follows the timeline: each step changes it right before its event leaves.
        await playScenario(bench.sandbox, steps, async (event) => {
          events.push(event);
          inFlight += 1;
          await redeliverer.deliver(event);
          inFlight -= 1;
          inject(proc, redeliverer.acked.length / total, inFlight);
        });
      }),
    );
  } finally {
    await proc.stop();
  }
  const { wrong, ...check } = checkAgainstClerk(
    bench.sandbox,
    users.map((u) => scriptedUser(u.events)),
  );
  return {
    users: users.length,
    ...redeliverer.stats,
    ...check,
    wrongRecords: wrong.length,
    wrong: wrong.slice(0, 20),
    processStarts: proc.starts,
  };
}

/**
 * The inline handler's fault runs: its process killed with SIGKILL three times mid-stream and restarted (the
 * product's worker run kills three times, its API run once), and a storm (Salesforce 503 on 30% of calls, Clerk 429
 * with Retry-After and Slack 429 on 30%) as long as the fault suite's.
 */
export async function inlineFaultRuns(bench: Bench): Promise<Record<string, InlineFaultRun>> {
  const { stormMs } = bench.settings.inline.faults;
  const inFlightAtKills: number[] = [];
  const restarts: Promise<void>[] = [];
  const killAt = [0.2, 0.45, 0.7];
  const kill = await faultRun(bench, (p, share, inFlight) => {
    if (inFlightAtKills.length >= killAt.length || share < killAt[inFlightAtKills.length]!) return;
    inFlightAtKills.push(inFlight);
    p.kill();
    restarts.push(p.start());
  });
  await Promise.all(restarts);
  if (inFlightAtKills.length < killAt.length)
    throw new Error(`inline SIGKILL run: ${inFlightAtKills.length} kills, not ${killAt.length}`);
  bench.note(
    `inline faults: SIGKILL run done (${kill.wrongRecords} wrong, ${kill.duplicateNotices} duplicate notices)`,
  );

  const rules: Record<'salesforce' | 'clerk' | 'slack', string[]> = { salesforce: [], clerk: [], slack: [] };
  const stormRun = await faultRun(
    bench,
    () => undefined,
    () => {
      const { faults } = bench.sandbox;
      const until = Date.now() + stormMs;
      // As the fault suite: each target's first call is faulted whatever the dice say, then 30% of the rest.
      rules.salesforce.push(
        faults.add(salesforceFault('SERVER_UNAVAILABLE', { method: 'POST', path: /\/composite$/, times: 1 })),
        faults.add({ ...salesforceFault('SERVER_UNAVAILABLE', { probability: 0.3 }), until }),
      );
      rules.clerk.push(
        faults.add(clerkRateLimited(1, { times: 1 })),
        faults.add({ ...clerkRateLimited(1, { probability: 0.3 }), until }),
      );
      rules.slack.push(
        faults.add(slackFault('rate_limited', { times: 1 })),
        faults.add({ ...slackFault('rate_limited', { probability: 0.3 }), until }),
      );
    },
  );
  const calls = bench.sandbox.calls();
  const faulted = (ids: string[]) =>
    calls.filter((c) => c.faultId !== undefined && ids.includes(c.faultId)).length;
  const faultedBy = {
    salesforce: faulted(rules.salesforce),
    clerk: faulted(rules.clerk),
    slack: faulted(rules.slack),
  };
  bench.sandbox.faults.clear();
  const missed = Object.entries(faultedBy).filter(([, n]) => n === 0);
  if (missed.length > 0)
    throw new Error(`inline storm run: no fault hit ${missed.map(([s]) => s).join(', ')}`);
  bench.note(
    `inline faults: storm run done (${stormRun.wrongRecords} wrong, ${stormRun.duplicateNotices} duplicate notices)`,
  );
  return {
    'process SIGKILL x3 mid-stream': { ...kill, inFlightAtKills },
    'Salesforce 503 storm + Clerk 429 + Slack 429': {
      ...stormRun,
      faultedCalls: faultedBy.salesforce + faultedBy.clerk + faultedBy.slack,
      faultedBy,
    },
  };
}
