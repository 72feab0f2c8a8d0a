import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  createSandbox,
  discardedWrites,
  newSvixId,
  playScenario,
  SCENARIOS,
  type Sandbox,
  type ScenarioName,
} from '@clerk-sync/sandbox';
import { SYNC_WORKFLOW_TYPES } from '../../src/cli/replay';
import { testSecret } from '../helpers/api';
import { freePort } from '../helpers/net';
import { Redeliverer } from '../helpers/redeliverer';
import { uniqueTaskQueue, waitUntil } from '../helpers/temporal';
import { checkRun, describeFinding, type Finding } from './check';
import { Supervised } from './processes';
import { RunTimeline, type TimelineEvent } from './timeline';

// What every fault run shares (test/faults on either engine, test/cluster on the production layout): scripted Clerk
// scenarios streamed through a Svix-like redeliverer into real `clerk-sync api` and `clerk-sync worker` processes
// under supervisors, then the check (./check.ts): every event sent matched to one completed workflow, every record
// as Clerk's final state implies, one welcome email per user, each notice once. Clerk follows the timeline: an
// event's change reaches the sandbox's Clerk only when that event is sent, so each event's own workflow must apply
// it (issue 17: with Clerk in its final state up front, one user.created wrote everything and hid every later loss).

/** `npm run test:faults` (FAULTS_FULL=1) runs the full sizes and durations; `npm test` a short form. */
export const FULL = process.env.FAULTS_FULL === '1';
export const USERS = FULL ? 40 : 8;
const OUTPUT = join(__dirname, '..', '..', 'test-output');

/** One fault run: its processes (each under a supervisor), its redeliverer, its task queue and its events. */
export interface FaultRun {
  apis: Supervised[];
  workers: Supervised[];
  redeliverer: Redeliverer;
  taskQueue: string;
  timeline: RunTimeline;
  /** The run's syncs are those of its task queue started since this time. */
  since: Date;
  /** Makes a fresh redeliverer to the run's API processes. */
  newRedeliverer: () => Redeliverer;
}

/** How a negative control tampers with an event: left out of the stream, or its Salesforce write discarded. */
export type Tamper = 'omit' | 'discard';

/** How `stream` plays the users' scenarios. */
export interface StreamOptions {
  users?: number;
  /**
   * One event at a time, each once the previous one's workflow has closed (the negative controls: no race between
   * a workflow's Clerk look-up and a later change can make up for what they take away).
   */
  paced?: boolean;
  /** A negative control's choice per event; undefined delivers it as it is. */
  tamper?: (event: TimelineEvent) => Tamper | undefined;
}

/** A Temporal address, a sandbox and a client to check with; each run gets a task queue of its own. */
export class FaultHarness {
  /** Per run: delivery stats and what the check found (written to test-output/ by `writeReport`). */
  readonly report: Record<string, Record<string, unknown>> = {};

  private constructor(
    readonly address: string,
    readonly sandbox: Sandbox,
    private readonly connection: Connection,
    readonly client: Client,
  ) {}

  static async start(address: string): Promise<FaultHarness> {
    const sandbox = await createSandbox();
    const connection = await Connection.connect({ address });
    return new FaultHarness(address, sandbox, connection, new Client({ connection }));
  }

  /**
   * Fresh API and worker processes on a task queue of their own; with several APIs the redeliverer spreads its
   * attempts over them round-robin, as a load balancer would, so a dead one's requests are retried on another.
   */
  async startRun({ apis = 1, workers = 1 }: { apis?: number; workers?: number } = {}): Promise<FaultRun> {
    const taskQueue = uniqueTaskQueue('faults');
    const secret = testSecret();
    const common = {
      TEMPORAL_ADDRESS: this.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    };
    const ports = await Promise.all(Array.from({ length: apis }, () => freePort()));
    const apiProcesses = ports.map(
      (port) =>
        new Supervised(
          'api',
          { ...common, PORT: String(port), CLERK_WEBHOOK_SIGNING_SECRET: secret },
          /API listening/,
        ),
    );
    const workerProcesses = Array.from(
      { length: workers },
      () =>
        new Supervised(
          'worker',
          { ...common, ...this.sandbox.env, WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>' },
          /worker polling/,
        ),
    );
    const all = [...apiProcesses, ...workerProcesses];
    await Promise.all(all.map((p) => p.start())).catch(async (err: unknown) => {
      await Promise.all(all.map((p) => p.stop())); // no supervisor left restarting a process nobody waits for
      throw err;
    });
    const newRedeliverer = () =>
      new Redeliverer(
        ports.map((port) => `http://127.0.0.1:${port}/webhooks/clerk`),
        secret,
      );
    return {
      apis: apiProcesses,
      workers: workerProcesses,
      redeliverer: newRedeliverer(),
      taskQueue,
      timeline: new RunTimeline(),
      since: new Date(),
      newRedeliverer,
    };
  }

  /**
   * A run on the same processes and task queue as `run`, once every sync of `run` has closed: what it checks is
   * only its own events and the syncs started since. Saves the negative controls a start of the processes.
   */
  followOn(run: FaultRun): FaultRun {
    return { ...run, redeliverer: run.newRedeliverer(), timeline: new RunTimeline(), since: new Date() };
  }

  /**
   * Streams every user's scenario (in order per user; users side by side unless `paced`), each event applied to the
   * sandbox's Clerk just before its first delivery; `onProgress` gets the share of events handled so far.
   */
  async stream(
    run: FaultRun,
    onProgress: (share: number) => void = () => undefined,
    { users = USERS, paced = false, tamper }: StreamOptions = {},
  ): Promise<void> {
    const scripts = Array.from({ length: users }, (_, i) => {
      const name: ScenarioName = i % 3 === 0 ? 'leave-org' : 'role-change';
      return SCENARIOS[name]();
    });
    const total = scripts.reduce((n, steps) => n + steps.length, 0);
    let handled = 0;
    const play = async (user: number) => {
      const steps = scripts[user]!;
      let step = 0;
      await playScenario(this.sandbox, steps, async (event) => {
        const last = ++step === steps.length;
        const entry = run.timeline.add(event, { svixId: newSvixId(), user, last });
        const fate = tamper?.(entry);
        if (fate === 'omit')
          entry.fate = 'omitted'; // a lost webhook: Clerk has moved on all the same
        else await this.send(run, event, entry, { paced, discard: fate === 'discard' });
        onProgress(++handled / total);
      });
    };
    if (paced) {
      for (let i = 0; i < users; i++) await play(i);
      return;
    }
    await Promise.all(
      scripts.map(async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 150)); // a steady trickle rather than one burst
        await play(i);
      }),
    );
  }

  /** Delivers one event; with `discard`, Salesforce acknowledges its workflow's write and keeps none of it. */
  private async send(
    run: FaultRun,
    event: unknown,
    entry: TimelineEvent,
    { paced, discard }: { paced: boolean; discard: boolean },
  ): Promise<void> {
    // Paced, nothing else is in flight: the one write of this event's workflow is the one discarded.
    if (discard && !paced) throw new Error('a discarded write needs a paced stream to land on its event');
    const rule = discard
      ? this.sandbox.faults.add(discardedWrites({ method: 'POST', path: /\/composite$/, times: 1 }))
      : undefined;
    if (discard) entry.fate = 'discarded';
    await run.redeliverer.deliver(event, entry.svixId);
    if (!paced) return;
    await this.client.workflow
      .getHandle(entry.svixId)
      .result()
      .catch(() => undefined); // a failed sync is the check's to report
    if (rule && this.sandbox.faults.list().some((f) => f.id === rule)) {
      this.sandbox.faults.remove(rule);
      throw new Error(`the discarded write of ${entry.svixId} (${entry.type}) did not happen`);
    }
  }

  /**
   * Waits for every sync of the run to close (and the sign-ups' notices to go out), then checks; records the run's
   * figures in the report under `name` and returns what the check found.
   */
  async check(run: FaultRun, name: string, extra: Record<string, unknown> = {}): Promise<Finding[]> {
    const types = SYNC_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
    const query =
      `TaskQueue = '${run.taskQueue}' AND WorkflowType IN (${types}) ` +
      `AND StartTime >= '${run.since.toISOString()}'`;
    await waitUntil(
      async () => (await this.client.workflow.count(`${query} AND ExecutionStatus = 'Running'`)).count === 0,
      180_000,
      'every sync to close',
    );
    const sent = [...run.redeliverer.sent];
    const users = run.timeline.users();
    // Notices leave in batches after the writes (issue 13): give the last ones time, however a fault hit the notifier.
    const noticed = () => {
      const text = this.sandbox.services.slack
        .messages()
        .map((m) => m.text ?? '')
        .join('\n');
      return users.every((userId) => text.includes(`(${userId})`));
    };
    await waitUntil(noticed, 60_000, 'every sign-up notice').catch(() => undefined);
    // Visibility trails the executions a little: wait until it lists a run for each svix-id sent.
    let executions: { workflowId: string; status: string }[] = [];
    await waitUntil(
      async () => {
        executions = [];
        for await (const wf of this.client.workflow.list({ query }))
          executions.push({ workflowId: wf.workflowId, status: wf.status.name });
        const listed = new Set(executions.map((e) => e.workflowId));
        return sent.every((id) => listed.has(id));
      },
      15_000,
      'every sync in the visibility store',
    ).catch(() => undefined);
    const findings = checkRun({ timeline: run.timeline, sandbox: this.sandbox, sent, executions });
    const fates = run.timeline.events.map((e) => e.fate);
    this.report[name] = {
      ...run.redeliverer.stats,
      eventsOmitted: fates.filter((f) => f === 'omitted').length,
      writesDiscarded: fates.filter((f) => f === 'discarded').length,
      workflowsCompleted: executions.filter((e) => e.status === 'COMPLETED').length,
      workflowsNotCompleted: executions.filter((e) => e.status !== 'COMPLETED').length,
      users: users.length,
      organizations: run.timeline.organizations().length,
      memberships: run.timeline.memberships().length,
      findings: findings.length,
      findingsNamed: findings.slice(0, 20).map(describeFinding),
      apiStarts: run.apis.reduce((n, p) => n + p.starts, 0),
      workerStarts: run.workers.reduce((n, p) => n + p.starts, 0),
      ...extra,
    };
    return findings;
  }

  /** `check`, and the run fails on any finding. */
  async verify(run: FaultRun, name: string, extra: Record<string, unknown> = {}): Promise<void> {
    const findings = await this.check(run, name, extra);
    expect(findings.map(describeFinding)).toEqual([]);
  }

  async finish(run: FaultRun): Promise<void> {
    await Promise.all([...run.apis, ...run.workers].map((p) => p.stop()));
  }

  /** Writes the runs' figures to test-output/<file>. */
  writeReport(file: string, header: Record<string, unknown>): void {
    mkdirSync(OUTPUT, { recursive: true });
    writeFileSync(
      join(OUTPUT, file),
      `${JSON.stringify({ ...header, full: FULL, users: USERS, runs: this.report }, null, 2)}\n`,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
    await this.sandbox.close();
  }
}
