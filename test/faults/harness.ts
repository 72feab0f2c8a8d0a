import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  createSandbox,
  scenarioEvents,
  type ClerkEvent,
  type Sandbox,
  type ScenarioName,
} from '@clerk-sync/sandbox';
import { SYNC_WORKFLOW_TYPES } from '../../src/cli/replay';
import { testSecret } from '../helpers/api';
import { freePort } from '../helpers/net';
import { Redeliverer, type DeliveryStats } from '../helpers/redeliverer';
import { uniqueTaskQueue, waitUntil } from '../helpers/temporal';
import { Supervised } from './processes';

// What every fault run shares (test/faults on either engine, test/cluster on the production layout): scripted Clerk
// scenarios streamed through a Svix-like redeliverer into real `clerk-sync api` and `clerk-sync worker` processes
// under supervisors, then the check: every event's effect in Salesforce, one welcome email per user, no sync left
// failed or running.

/** `npm run test:faults` (FAULTS_FULL=1) runs the full sizes and durations; `npm test` a short form. */
export const FULL = process.env.FAULTS_FULL === '1';
export const USERS = FULL ? 40 : 8;
const OUTPUT = join(__dirname, '..', '..', 'test-output');

/** One fault run: its processes (each under a supervisor), its redeliverer, its task queue and users. */
export interface FaultRun {
  apis: Supervised[];
  workers: Supervised[];
  redeliverer: Redeliverer;
  taskQueue: string;
  users: string[];
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
    await Promise.all([...apiProcesses, ...workerProcesses].map((p) => p.start()));
    return {
      apis: apiProcesses,
      workers: workerProcesses,
      redeliverer: new Redeliverer(
        ports.map((port) => `http://127.0.0.1:${port}/webhooks/clerk`),
        secret,
      ),
      taskQueue,
      users: [],
    };
  }

  /** The users' scenarios as Clerk events, in Clerk order per user; Clerk's own data ends in the final state. */
  private scriptedEvents(run: FaultRun, users: number): ClerkEvent[][] {
    return Array.from({ length: users }, (_, i) => {
      const name: ScenarioName = i % 3 === 0 ? 'leave-org' : 'role-change';
      const events = scenarioEvents(this.sandbox, name);
      run.users.push((events.find((e) => e.type === 'user.created')!.data as { id: string }).id);
      return events;
    });
  }

  /** Streams every user's events (in order per user, users side by side), calling `onProgress` with the share acked. */
  async stream(run: FaultRun, onProgress: (acked: number) => void, users = USERS): Promise<void> {
    const perUser = this.scriptedEvents(run, users);
    const total = perUser.reduce((n, e) => n + e.length, 0);
    await Promise.all(
      perUser.map(async (events, i) => {
        await new Promise((r) => setTimeout(r, i * 150)); // a steady trickle rather than one burst
        for (const event of events) {
          await run.redeliverer.deliver(event);
          onProgress(run.redeliverer.acked.length / total);
        }
      }),
    );
  }

  /** Waits for every sync of the run to close, then checks Salesforce, the emails and the failed count. */
  async verify(run: FaultRun, name: string, extra: Record<string, unknown> = {}): Promise<void> {
    const types = SYNC_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
    const q = `TaskQueue = '${run.taskQueue}' AND WorkflowType IN (${types})`;
    await waitUntil(
      async () => (await this.client.workflow.count(`${q} AND ExecutionStatus = 'Running'`)).count === 0,
      180_000,
      'every sync to close',
    );
    const failed = (await this.client.workflow.count(`${q} AND ExecutionStatus != 'Completed'`)).count;
    const clerk = this.sandbox.services.clerk.store;
    const salesforce = this.sandbox.services.salesforce;
    const contacts = new Map(salesforce.records('Contact').map((c) => [c.Clerk_User_Id__c as string, c]));
    const accounts = new Map(salesforce.records('Account').map((a) => [a.Id as string, a]));
    const memberships = salesforce.records('Clerk_Membership__c');
    const emails = this.sandbox.services.resend.emails();

    const wrong: string[] = [];
    let duplicateEmails = 0;
    let missingEmails = 0;
    for (const userId of run.users) {
      const user = clerk.getUser(userId);
      const contact = contacts.get(userId);
      const primary =
        user.email_addresses.find((e) => e.id === user.primary_email_address_id)?.email_address ?? null;
      if (!contact) {
        wrong.push(`${userId}: no Contact`);
        continue;
      }
      if (
        contact.LastName !== user.last_name ||
        contact.Email !== primary ||
        contact.Clerk_Status__c !== 'Active'
      ) {
        wrong.push(
          `${userId}: Contact ${JSON.stringify([contact.LastName, contact.Email, contact.Clerk_Status__c])}`,
        );
      }
      const want = clerk
        .listUserMemberships(userId, { limit: 100, offset: 0 })
        .data.map((m) => `${m.id}:${m.role}`)
        .sort();
      const have = memberships
        .filter((m) => m.Contact__c === contact.Id)
        .map((m) => `${String(m.Clerk_Membership_Id__c)}:${String(m.Role__c)}`)
        .sort();
      if (JSON.stringify(want) !== JSON.stringify(have))
        wrong.push(`${userId}: memberships ${have.join(',')} ≠ ${want.join(',')}`);
      const account = contact.AccountId ? accounts.get(contact.AccountId as string) : undefined;
      const orgs = clerk
        .listUserMemberships(userId, { limit: 100, offset: 0 })
        .data.map((m) => m.organization.id);
      if (
        orgs.length === 0 ? contact.AccountId : !orgs.includes(account?.Clerk_Organization_Id__c as string)
      ) {
        wrong.push(`${userId}: AccountId ${String(contact.AccountId)}`);
      }
      const sent = emails.filter((e) => primary && e.to.includes(primary)).length;
      if (sent > 1) duplicateEmails += sent - 1;
      if (sent === 0) missingEmails += 1;
    }
    // Every sign-up's Slack notice, however the fault hit the notifier (issue 13: nothing lost across restarts).
    const unnoticed = () => {
      const lines = new Set(
        this.sandbox.services.slack.messages().flatMap((m) => (m.text ?? '').match(/\(user_[^)]+\)/g) ?? []),
      );
      return run.users.filter((userId) => !lines.has(`(${userId})`));
    };
    await waitUntil(() => unnoticed().length === 0, 60_000, 'every sign-up notice').catch(() => undefined);
    const missingNotices = unnoticed().length;
    const stats: DeliveryStats = run.redeliverer.stats;
    this.report[name] = {
      ...stats,
      workflowsNotCompleted: failed,
      duplicateEmails,
      missingEmails,
      missingNotices,
      wrongRecords: wrong.length,
      apiStarts: run.apis.reduce((n, p) => n + p.starts, 0),
      workerStarts: run.workers.reduce((n, p) => n + p.starts, 0),
      ...extra,
    };
    expect({ lost: stats.lost, failed, duplicateEmails, missingEmails, missingNotices, wrong }).toEqual({
      lost: 0,
      failed: 0,
      duplicateEmails: 0,
      missingEmails: 0,
      missingNotices: 0,
      wrong: [],
    });
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
