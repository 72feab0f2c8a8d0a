import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/local/temporal-server';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { clerkRateLimited, salesforceFault, slackFault } from '@clerk-sync/sandbox';
import { scenarioEvents, type ScenarioName } from '@clerk-sync/sandbox';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';
import { testSecret } from '../helpers/api';
import { freePort } from '../helpers/net';
import { uniqueTaskQueue, waitUntil } from '../helpers/temporal';
import { Redeliverer, type DeliveryStats } from '../helpers/redeliverer';
import { Supervised } from './processes';

// The fault suite: scripted Clerk scenarios streamed through a Svix-like redeliverer into the real processes
// (`clerk-sync api` and `clerk-sync worker`, each under a supervisor that restarts it), while one fault is
// injected per run. Afterwards every event's effect must be in Salesforce, each user must have exactly one
// welcome email, and no workflow may be left failed. `npm test` runs a short form; `npm run test:faults`
// (FAULTS_FULL=1) runs the full durations.
const FULL = process.env.FAULTS_FULL === '1';
const USERS = FULL ? 40 : 8;
const OUTAGE_MS = FULL ? 20_000 : 5_000;
const STORM_MS = FULL ? 60_000 : 10_000;
const OUTPUT = join(__dirname, '..', '..', 'test-output');

let server: DevServer;
let temporalPort: number;
let dbFilename: string;
let sandbox: Sandbox;
let connection: Connection;
let client: Client;
const report: Record<string, unknown> = {};

beforeAll(async () => {
  temporalPort = await freePort();
  dbFilename = join(mkdtempSync(join(tmpdir(), 'clerk-sync-faults-')), 'temporal.db');
  server = await startDevServer({ port: temporalPort, dbFilename });
  sandbox = await createSandbox();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 120_000);

afterAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  writeFileSync(
    join(OUTPUT, 'faults-report.json'),
    `${JSON.stringify({ full: FULL, users: USERS, runs: report }, null, 2)}\n`,
  );
  await connection?.close();
  await sandbox?.close();
  await server?.stop();
});

interface Run {
  api: Supervised;
  worker: Supervised;
  redeliverer: Redeliverer;
  taskQueue: string;
  users: string[];
}

/** Fresh API and worker processes on a task queue of their own, against the suite's Temporal and sandbox. */
async function startRun(): Promise<Run> {
  const taskQueue = uniqueTaskQueue('faults');
  const secret = testSecret();
  const port = await freePort();
  const common = {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  };
  const api = new Supervised(
    'api',
    { ...common, PORT: String(port), CLERK_WEBHOOK_SIGNING_SECRET: secret },
    /API listening/,
  );
  const worker = new Supervised(
    'worker',
    { ...common, ...sandbox.env, WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>' },
    /worker polling/,
  );
  await Promise.all([api.start(), worker.start()]);
  return {
    api,
    worker,
    redeliverer: new Redeliverer(`http://127.0.0.1:${port}/webhooks/clerk`, secret),
    taskQueue,
    users: [],
  };
}

/** The users' scenarios as Clerk events, in Clerk order per user; Clerk's own data ends in the final state. */
function scriptedEvents(run: Run): ClerkEvent[][] {
  return Array.from({ length: USERS }, (_, i) => {
    const name: ScenarioName = i % 3 === 0 ? 'leave-org' : 'role-change';
    const events = scenarioEvents(sandbox, name);
    run.users.push((events.find((e) => e.type === 'user.created')!.data as { id: string }).id);
    return events;
  });
}

/** Streams every user's events (in order per user, users side by side), calling `onProgress` with the share acked. */
async function stream(run: Run, onProgress: (acked: number) => void): Promise<void> {
  const perUser = scriptedEvents(run);
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
async function verify(run: Run, name: string): Promise<void> {
  const q = `TaskQueue = '${run.taskQueue}' AND WorkflowType != 'postNotice'`;
  await waitUntil(
    async () => (await client.workflow.count(`${q} AND ExecutionStatus = 'Running'`)).count === 0,
    180_000,
    'every sync to close',
  );
  const failed = (await client.workflow.count(`${q} AND ExecutionStatus != 'Completed'`)).count;
  const clerk = sandbox.services.clerk.store;
  const salesforce = sandbox.services.salesforce;
  const contacts = new Map(salesforce.records('Contact').map((c) => [c.Clerk_User_Id__c as string, c]));
  const accounts = new Map(salesforce.records('Account').map((a) => [a.Id as string, a]));
  const memberships = salesforce.records('Clerk_Membership__c');
  const emails = sandbox.services.resend.emails();

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
    if (orgs.length === 0 ? contact.AccountId : !orgs.includes(account?.Clerk_Organization_Id__c as string)) {
      wrong.push(`${userId}: AccountId ${String(contact.AccountId)}`);
    }
    const sent = emails.filter((e) => primary && e.to.includes(primary)).length;
    if (sent > 1) duplicateEmails += sent - 1;
    if (sent === 0) missingEmails += 1;
  }
  const stats: DeliveryStats = run.redeliverer.stats;
  report[name] = {
    ...stats,
    workflowsNotCompleted: failed,
    duplicateEmails,
    missingEmails,
    wrongRecords: wrong.length,
    apiStarts: run.api.starts,
    workerStarts: run.worker.starts,
  };
  expect({ lost: stats.lost, failed, duplicateEmails, missingEmails, wrong }).toEqual({
    lost: 0,
    failed: 0,
    duplicateEmails: 0,
    missingEmails: 0,
    wrong: [],
  });
}

async function finish(run: Run): Promise<void> {
  await Promise.all([run.api.stop(), run.worker.stop()]);
}

describe(`fault suite (${FULL ? 'full' : 'short'}: ${USERS} users)`, () => {
  jest.setTimeout(FULL ? 900_000 : 300_000);

  it('the worker killed with SIGKILL three times mid-stream and restarted', async () => {
    const run = await startRun();
    try {
      // Three crashes while syncs are in flight: each once the restarted worker has been working for a second.
      const crashes = (async () => {
        for (let k = 1; k <= 3; k++) {
          await waitUntil(() => run.worker.starts === k, 60_000, `worker start ${k}`);
          await run.worker.up();
          await new Promise((r) => setTimeout(r, 1_000));
          run.worker.kill();
        }
        await waitUntil(() => run.worker.starts === 4, 60_000, 'worker start 4');
        await run.worker.up();
      })();
      await stream(run, () => undefined);
      await crashes;
      await verify(run, 'worker SIGKILL x3');
      expect(run.worker.starts).toBe(4);
    } finally {
      await finish(run);
    }
  });

  it(`the Temporal server stopped for ${OUTAGE_MS / 1000} s mid-stream and restarted on its persisted state`, async () => {
    const run = await startRun();
    let outage: Promise<void> | undefined;
    try {
      await stream(run, (share) => {
        if (!outage && share >= 0.3) {
          outage = (async () => {
            await server.stop();
            await new Promise((r) => setTimeout(r, OUTAGE_MS));
            server = await startDevServer({ port: temporalPort, dbFilename });
          })();
        }
      });
      await outage;
      await run.worker.up();
      await verify(run, `Temporal down ${OUTAGE_MS / 1000}s`);
      expect(run.redeliverer.stats.answered503 + run.redeliverer.stats.noAnswer).toBeGreaterThan(0);
    } finally {
      await finish(run);
    }
  });

  it(`a Salesforce 503 storm (30% of calls for ${STORM_MS / 1000} s), Clerk 429s with Retry-After and Slack 429s`, async () => {
    const run = await startRun();
    const until = Date.now() + STORM_MS;
    const storm = sandbox.faults.add({
      ...salesforceFault('SERVER_UNAVAILABLE', { probability: 0.3 }),
      until,
    });
    const limited = sandbox.faults.add({ ...clerkRateLimited(1, { probability: 0.3 }), until });
    // Slack's one-message-a-second limit, hit by 30% of the notices: they must never hold up or repeat a sync.
    const slack = sandbox.faults.add({ ...slackFault('rate_limited', { probability: 0.3 }), until });
    try {
      await stream(run, () => undefined);
      await verify(run, 'Salesforce 503 storm + Clerk 429 + Slack 429');
      const faulted = sandbox
        .calls()
        .filter((c) => c.faultId === storm || c.faultId === limited || c.faultId === slack).length;
      report['Salesforce 503 storm + Clerk 429 + Slack 429'] = {
        ...(report['Salesforce 503 storm + Clerk 429 + Slack 429'] as object),
        faultedCalls: faulted,
      };
      expect(faulted).toBeGreaterThan(0);
    } finally {
      sandbox.faults.clear();
      await finish(run);
    }
  });

  it('the API process killed with SIGKILL mid-stream and restarted', async () => {
    const run = await startRun();
    let killed = false;
    try {
      await stream(run, (share) => {
        if (!killed && share >= 0.4) {
          killed = true;
          run.api.kill();
        }
      });
      await verify(run, 'API SIGKILL');
      expect(run.api.starts).toBe(2);
    } finally {
      await finish(run);
    }
  });
});
