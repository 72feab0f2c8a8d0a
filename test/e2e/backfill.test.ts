import { ScheduleNotFoundError } from '@temporalio/client';
import {
  backfill,
  BackfillUsageError,
  RECONCILE_SCHEDULE_ID,
  type BackfillCommandOptions,
  type BackfillOutcome,
} from '../../src/cli/backfill';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { clerkRateLimited } from '@clerk-sync/sandbox';
import type { ClerkEvent, MembershipJSON, UserJSON } from '@clerk-sync/sandbox';
import type { BackfillProgress, BackfillReport } from '../../src/workflows/backfill';
import { salesforceApiCalls, startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// `clerk-sync backfill` (SPEC.md "Operators", issue 6): every Clerk organization, user and membership lands in
// Salesforce through the real CLI function, the workflow, the page activities, Clerk's SDK and jsforce, against a
// Clerk that already holds a few hundred users (its typed mutators send no webhooks, as for an existing instance).
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sandbox: { seed: {} } });
  seed();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

const ORGS = 7; // the last one has no members
const USERS = 300; // the last ten have no memberships
const base = Date.now() - 30 * 86_400_000;
const orgIds: string[] = [];
const userIds: string[] = [];

/** Each user joins one organization; every tenth joined another one earlier, listed later in Clerk's order. */
function seed(): void {
  const clerk = stack.sandbox.services.clerk;
  for (let i = 0; i < ORGS; i++) {
    const org = clerk.createOrganization({
      name: `Backfill Org ${i}`,
      slug: `backfill-org-${i}`,
      createdAt: base + i * 1000,
    });
    orgIds.push((org.data as { id: string }).id);
  }
  for (let i = 0; i < USERS; i++) {
    const user = clerk.createUser({
      firstName: `Ada${i}`,
      lastName: i % 25 === 0 ? null : `Backfill${i}`, // no last name: the username stands in
      username: `ada${i}`,
      emailAddress: [`ada${i}@backfill.example`],
      createdAt: base + 10_000 + i,
    });
    const userId = (user.data as { id: string }).id;
    userIds.push(userId);
    if (i >= USERS - 10) continue;
    clerk.addMembership({
      organizationId: orgIds[i % 6]!,
      userId,
      role: i % 7 === 0 ? 'org:admin' : 'org:member',
      createdAt: base + 100_000 + i,
    });
    if (i % 10 === 0) {
      clerk.addMembership({ organizationId: orgIds[(i + 3) % 6]!, userId, createdAt: base + 50_000 + i });
    }
  }
}

/** A writer that keeps what the CLI prints. */
function collector(isTTY = false) {
  const chunks: string[] = [];
  return { out: { write: (s: string) => chunks.push(s), isTTY }, text: () => chunks.join('') };
}

async function run(
  opts: BackfillCommandOptions,
  out = collector().out,
): Promise<BackfillOutcome & { report: BackfillReport }> {
  const outcome = await backfill(opts, {
    client: stack.env.client,
    taskQueue: stack.config.temporal.taskQueue,
    out,
    pollMs: 50,
  });
  expect(outcome.exitCode).toBe(0);
  return outcome as BackfillOutcome & { report: BackfillReport };
}

const clerkState = () => stack.sandbox.services.clerk.store.snapshot();

async function query<T>(soql: string): Promise<T[]> {
  let page = await stack.salesforce.query(soql);
  const records = [...page.records];
  while (!page.done && page.nextRecordsUrl) {
    page = await stack.salesforce.queryMore(page.nextRecordsUrl);
    records.push(...page.records);
  }
  return records as unknown as T[];
}

interface ContactRow {
  Clerk_User_Id__c: string;
  FirstName: string | null;
  LastName: string;
  Email: string | null;
  Clerk_Status__c: string;
  Clerk_Updated_At__c: number;
  Account: { Clerk_Organization_Id__c: string } | null;
}

const contacts = () =>
  query<ContactRow>(
    'SELECT Clerk_User_Id__c, FirstName, LastName, Email, Clerk_Status__c, Clerk_Updated_At__c, ' +
      "Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c LIKE 'user_%'",
  );

interface MembershipRow {
  Clerk_Membership_Id__c: string;
  Role__c: string;
  Clerk_Updated_At__c: number;
  Contact__r: { Clerk_User_Id__c: string };
  Account__r: { Clerk_Organization_Id__c: string };
}

const memberships = () =>
  query<MembershipRow>(
    'SELECT Clerk_Membership_Id__c, Role__c, Clerk_Updated_At__c, Contact__r.Clerk_User_Id__c, ' +
      'Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c',
  );

/** The organization of a user's oldest membership: where SPEC puts the Contact's AccountId. */
function oldestOrganization(all: MembershipJSON[], userId: string): string | null {
  const mine = all.filter((m) => m.public_user_data.user_id === userId);
  mine.sort((a, b) => a.created_at - b.created_at);
  return mine[0]?.organization.id ?? null;
}

const counts = (r: BackfillReport) =>
  Object.fromEntries(
    Object.entries(r.totals).map(([kind, c]) => [kind, { ...c }]),
  ) as BackfillReport['totals'];

/** Salesforce API calls and Clerk Backend API calls made while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; salesforce: number; clerk: number }> {
  const sf = salesforceApiCalls(stack.sandbox);
  const clerk = stack.sandbox.calls('clerk').length;
  const value = await fn();
  return {
    value,
    salesforce: salesforceApiCalls(stack.sandbox) - sf,
    clerk: stack.sandbox.calls('clerk').length - clerk,
  };
}

describe('clerk-sync backfill', () => {
  it('imports every organization, user and membership, page by page, continuing as new', async () => {
    const started = Date.now();
    const { value, salesforce, clerk } = await measured(() => run({ pagesPerRun: 2 }));
    const { report } = value;
    const state = clerkState();
    expect(counts(report)).toEqual({
      organizations: { seen: ORGS, created: ORGS, updated: 0, unchanged: 0, skippedDeleted: 0, failed: 0 },
      users: { seen: USERS, created: USERS, updated: 0, unchanged: 0, skippedDeleted: 0, failed: 0 },
      memberships: {
        seen: state.memberships.length,
        created: state.memberships.length,
        updated: 0,
        unchanged: 0,
        skippedDeleted: 0,
        failed: 0,
      },
    });
    expect(report).toMatchObject({ phase: 'done', done: true, dryRun: false, accountIdsSet: USERS - 10 });
    expect(report.runs).toBeGreaterThanOrEqual(3); // 5 pages, 2 per run: continued as new twice

    const byUser = new Map(state.users.map((u: UserJSON) => [u.id, u]));
    const rows = await contacts();
    expect(rows).toHaveLength(USERS);
    for (const row of rows) {
      const user = byUser.get(row.Clerk_User_Id__c)!;
      const i = Number(user.username!.slice(3));
      expect(row).toEqual(
        expect.objectContaining({
          FirstName: `Ada${i}`,
          LastName: i % 25 === 0 ? `ada${i}` : `Backfill${i}`,
          Email: `ada${i}@backfill.example`,
          Clerk_Status__c: 'Active',
          Clerk_Updated_At__c: user.updated_at,
        }),
      );
      // Every tenth user's oldest membership is in an organization Clerk lists after the other one.
      expect(row.Account?.Clerk_Organization_Id__c ?? null).toBe(
        oldestOrganization(state.memberships, row.Clerk_User_Id__c),
      );
    }
    const stored = new Map((await memberships()).map((m) => [m.Clerk_Membership_Id__c, m]));
    expect(stored.size).toBe(state.memberships.length);
    for (const m of state.memberships) {
      expect(stored.get(m.id)).toEqual(
        expect.objectContaining({
          Role__c: m.role,
          Clerk_Updated_At__c: m.updated_at,
          Contact__r: expect.objectContaining({ Clerk_User_Id__c: m.public_user_data.user_id }),
          Account__r: expect.objectContaining({ Clerk_Organization_Id__c: m.organization.id }),
        }),
      );
    }
    const accounts = await query<{ Name: string; Clerk_Slug__c: string; Clerk_Status__c: string }>(
      "SELECT Name, Clerk_Slug__c, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c LIKE 'org_%' ORDER BY Name",
    );
    expect(
      accounts.map(({ Name, Clerk_Slug__c, Clerk_Status__c }) => [Name, Clerk_Slug__c, Clerk_Status__c]),
    ).toEqual(orgIds.map((_, i) => [`Backfill Org ${i}`, `backfill-org-${i}`, 'Active']));

    const records = ORGS + USERS + state.memberships.length;
    const perRecords = (n: number) => ((n / records) * 200).toFixed(2);
    process.stdout.write(
      `backfill of ${records} records (page size 200): ${salesforce} Salesforce API calls ` +
        `(${perRecords(salesforce)} per 200 records), ${clerk} Clerk Backend API calls ` +
        `(${perRecords(clerk)} per 200 records), ${Date.now() - started} ms\n`,
    );
    // One read and one write per page of organizations or users; memberships may add one read of the Accounts of
    // users' older memberships listed on other pages.
    expect(salesforce).toBeLessThanOrEqual(2 + 2 * 2 + 3 * 2);
  });

  it('running it again changes nothing, with a progress bar on a terminal', async () => {
    const tty = collector(true);
    const { value, salesforce, clerk } = await measured(() => run({ pageSize: 37, pagesPerRun: 3 }, tty.out));
    const { report } = value;
    process.stdout.write(
      `backfill again (page size 37): ${salesforce} Salesforce API calls, ${clerk} Clerk Backend API calls, ` +
        `${report.pages} pages in ${report.runs} runs\n`,
    );
    for (const c of Object.values(report.totals)) {
      expect(c).toMatchObject({ created: 0, updated: 0, skippedDeleted: 0, failed: 0 });
      expect(c.unchanged).toBe(c.seen);
    }
    expect(report).toMatchObject({ changed: 0, accountIdsSet: 0 });
    expect(report.runs).toBeGreaterThan(5);
    // Reads only: one per page (Clerk lists 7 organizations, 300 users and 319 memberships: 1 + 9 + 9 pages).
    expect(salesforce).toBe(report.pages);
    const text = tty.text();
    const redraw = '\r\u001b[2K'; // carriage return, erase line
    expect(text).toContain(redraw);
    expect(text.split(redraw).some((l) => /^(organizations|users|memberships) +\[#*-*\] +\d+%/.test(l))).toBe(
      true,
    );
    expect(text).toContain('users         done    · 300 seen: 0 created, 0 updated, 300 unchanged');
    expect(text).toContain('Salesforce was already in step with Clerk: nothing changed.');
  });

  it('never overwrites a newer Contact, and never revives a Deleted one or its memberships', async () => {
    const clerk = stack.sandbox.services.clerk;
    const [newer, deleted] = [userIds[1]!, userIds[20]!]; // user 20 has two memberships
    // A webhook newer than what Clerk's list shows landed meanwhile (Salesforce holds a later version).
    const [contact] = await query<{ Id: string }>(
      `SELECT Id FROM Contact WHERE Clerk_User_Id__c = '${newer}'`,
    );
    await stack.salesforce.sobject('Contact').update({
      Id: contact!.Id,
      LastName: 'FromNewerWebhook',
      Clerk_Updated_At__c: Date.now() + 3_600_000,
    });
    clerk.updateUser(newer, { lastName: 'OlderInTheList' });
    // user.deleted landed for a user the backfill still sees in Clerk (the deletion raced the list).
    const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, {
      type: 'user.deleted',
      object: 'event',
      data: { id: deleted, object: 'user', deleted: true },
      timestamp: Date.now(),
      instance_id: clerk.store.instanceId,
      event_attributes: { http_request: { client_ip: '127.0.0.1', user_agent: 'test' } },
    } satisfies ClerkEvent);
    expect(await stack.env.client.workflow.getHandle(res.svixId).result()).toEqual({ membershipsRemoved: 2 });
    clerk.updateUser(deleted, { firstName: 'Revived?' });

    const { report } = await run({});
    expect(report.totals.users).toMatchObject({
      created: 0,
      updated: 0,
      skippedDeleted: 1,
      unchanged: USERS - 1,
    });
    expect(report.totals.memberships).toMatchObject({ created: 0, updated: 0, skippedDeleted: 2 });
    expect(report).toMatchObject({ changed: 0, accountIdsSet: 0 });
    const rows = await query<ContactRow>(
      `SELECT Clerk_User_Id__c, FirstName, LastName, Clerk_Status__c, AccountId FROM Contact ` +
        `WHERE Clerk_User_Id__c IN ('${newer}', '${deleted}')`,
    );
    expect(rows.find((r) => r.Clerk_User_Id__c === newer)).toMatchObject({ LastName: 'FromNewerWebhook' });
    expect(rows.find((r) => r.Clerk_User_Id__c === deleted)).toMatchObject({
      FirstName: 'Ada20',
      Clerk_Status__c: 'Deleted',
      AccountId: null,
    });
    expect((await memberships()).filter((m) => m.Contact__r.Clerk_User_Id__c === deleted)).toEqual([]);
  });

  it('--dry-run counts what would change and writes nothing; the real run then does exactly that', async () => {
    const clerk = stack.sandbox.services.clerk;
    const newcomer = (
      clerk.createUser({ firstName: 'Grace', lastName: 'Newcomer', emailAddress: ['grace@backfill.example'] })
        .data as { id: string }
    ).id;
    clerk.updateOrganization(orgIds[0]!, { name: 'Backfill Org 0 (renamed)' });
    clerk.addMembership({ organizationId: orgIds[6]!, userId: newcomer, role: 'org:admin' });
    const expected = {
      organizations: { created: 0, updated: 1 },
      users: { created: 1, updated: 0 },
      memberships: { created: 1, updated: 0 },
    };

    const dry = collector();
    const before = { contacts: await contacts(), memberships: await memberships() };
    const { report, workflowId } = await run({ dryRun: true }, dry.out);
    expect(workflowId).toMatch(/^backfill\/.+\/dry-run$/);
    expect(report).toMatchObject({ dryRun: true, totals: expected, accountIdsSet: 1, changed: 4 });
    expect(dry.text()).toContain('a dry run, nothing was written');
    expect(await contacts()).toEqual(before.contacts);
    expect(await memberships()).toEqual(before.memberships);
    const [org0] = await query<{ Name: string }>(
      `SELECT Name FROM Account WHERE Clerk_Organization_Id__c = '${orgIds[0]}'`,
    );
    expect(org0!.Name).toBe('Backfill Org 0');

    const { report: real } = await run({});
    expect(real).toMatchObject({ dryRun: false, totals: expected, accountIdsSet: 1, changed: 4 });
    const [grace] = await query<ContactRow>(
      `SELECT LastName, Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c = '${newcomer}'`,
    );
    expect(grace).toMatchObject({ LastName: 'Newcomer', Account: { Clerk_Organization_Id__c: orgIds[6] } });
  });

  it('a page that Clerk rate-limits is retried after Retry-After, resuming its look-ups from the heartbeat', async () => {
    const clerk = stack.sandbox.services.clerk;
    const org = (clerk.createOrganization({ name: 'Rate Limited Inc' }).data as { id: string }).id;
    const joiners = Array.from({ length: 6 }, (_, i) => {
      const id = (clerk.createUser({ firstName: 'Late', lastName: `Joiner${i}` }).data as { id: string }).id;
      clerk.addMembership({ organizationId: org, userId: id });
      return id;
    });
    const lookups = (userId: string) =>
      stack.sandbox.calls('clerk').filter((c) => c.path === `/v1/users/${userId}/organization_memberships`);
    stack.sandbox.faults.add(
      clerkRateLimited(1, { path: `/v1/users/${joiners[2]}/organization_memberships`, times: 1 }),
    );
    const { report } = await run({});
    expect(report).toMatchObject({
      totals: { users: { created: 6 }, memberships: { created: 6 }, organizations: { created: 1 } },
      accountIdsSet: 6,
    });
    // The second attempt asked Clerk only for what the first one had not found: the 429'd user and the one not
    // started yet (five run at once; the others finished and heartbeat their answers before the attempt failed).
    expect(joiners.map((id) => lookups(id).map((c) => c.status))).toEqual([
      [200],
      [200],
      [429, 200],
      [200],
      [200],
      [200],
    ]);
  });

  it('answers the progress query while it runs (non-TTY: one line per phase)', async () => {
    // Slow Clerk's user list down and page it finely, so that the query meets the users phase half-way even on a
    // loaded machine (a query needs a workflow task: seconds when the worker is busy).
    stack.sandbox.faults.add({ service: 'clerk', method: 'GET', path: '/v1/users', latencyMs: 400 });
    const plain = collector();
    const running = run({ pageSize: 20 }, plain.out);
    try {
      const workflowId = await waitUntil(
        () => /Started (\S+)/.exec(plain.text())?.[1],
        10_000,
        'the start line',
      );
      const handle = stack.env.client.workflow.getHandle(workflowId);
      const midway = await waitUntil(
        async () => {
          const p = await handle.query<BackfillProgress>('backfillProgress');
          return p.phase === 'users' && p.position.done > 0 ? p : undefined;
        },
        60_000,
        'the users phase',
      );
      const { users, organizations } = clerkState();
      expect(midway).toMatchObject({
        done: false,
        dryRun: false,
        position: { of: 'users', total: users.length },
        totals: { organizations: { seen: organizations.length, unchanged: organizations.length } },
      });
      expect(midway.processed).toBe(organizations.length + midway.position.done);
      const { report } = await running;
      expect(await handle.query<BackfillProgress>('backfillProgress')).toMatchObject({
        phase: 'done',
        done: true,
        processed: report.processed,
      });
    } finally {
      await running.catch(() => undefined); // never leave it running for the next test
    }
    const lines = plain.text().split('\n');
    expect(lines.filter((l) => /^\w+ +done +· /.test(l)).map((l) => l.split(' ')[0])).toEqual([
      'organizations',
      'users',
      'memberships',
    ]);
    expect(plain.text()).not.toContain('\r');
  });

  it('a second backfill follows the one already running instead of starting another', async () => {
    await stack.stopWorkers(); // the first one stays pending
    const first = collector();
    const second = collector();
    const firstRun = run({}, first.out);
    let secondRun: ReturnType<typeof run> | undefined;
    let workflowId: string;
    try {
      workflowId = await waitUntil(() => /Started (\S+)/.exec(first.text())?.[1], 10_000, 'the start');
      await waitUntil(async () => {
        for await (const w of stack.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
          return w.status.name === 'RUNNING';
        return false;
      });
      secondRun = run({}, second.out);
      await waitUntil(() => second.text().includes('already running'), 10_000, 'the attach');
    } finally {
      await stack.startWorkers();
    }
    const [a, b] = await Promise.all([firstRun, secondRun]);
    expect(b).toMatchObject({ attached: true, workflowId });
    expect(a).toMatchObject({ attached: false, workflowId });
    expect(b.report.changed).toBe(0);
  });

  it('schedules the reconciliation idempotently, repairs drift when it runs, and removes it', async () => {
    const taskQueue = stack.config.temporal.taskQueue;
    const deps = { client: stack.env.client, taskQueue, out: collector().out };
    await backfill({ unschedule: true }, deps);
    expect((await backfill({ schedule: '6h' }, deps)).schedule).toBe('created');
    expect((await backfill({ schedule: '6h' }, deps)).schedule).toBe('unchanged');
    expect((await backfill({ schedule: '12h' }, deps)).schedule).toBe('updated');
    await expect(backfill({ schedule: '6' }, deps)).rejects.toThrow(BackfillUsageError);
    const handle = stack.env.client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    const described = await handle.describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 12 * 3_600_000 })]);
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.action).toMatchObject({ workflowType: 'backfillFromClerk', taskQueue });

    // Drift: a membership removed in Salesforce by hand. The scheduled run puts it back and says so.
    const [gone] = await memberships();
    await stack.salesforce
      .sobject('Clerk_Membership__c')
      .destroy(
        (
          await query<{ Id: string }>(
            `SELECT Id FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c = '${gone!.Clerk_Membership_Id__c}'`,
          )
        )[0]!.Id,
      );
    await handle.trigger();
    const action = await waitUntil(async () => (await handle.describe()).info.recentActions[0], 10_000);
    const report = (await stack.env.client.workflow
      .getHandle(action.action.workflow.workflowId)
      .result()) as BackfillReport;
    expect(report).toMatchObject({ changed: 1, totals: { memberships: { created: 1 } } });

    expect((await backfill({ unschedule: true }, deps)).schedule).toBe('deleted');
    await expect(handle.describe()).rejects.toThrow(ScheduleNotFoundError);
    expect((await backfill({ unschedule: true }, deps)).schedule).toBe('absent');
  });
});
