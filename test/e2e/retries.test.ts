import { WorkflowFailedError } from '@temporalio/client';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { clerkRateLimited, salesforceFault, slackFault } from '@clerk-sync/sandbox';
import { notifierWorkflowId } from '../../src/shared/notices';
import { slackLines } from '../helpers/slack';
import { activitiesOf, startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// SPEC "every side effect is retried until it succeeds or fails for a reason that a retry cannot fix": each
// system's failures are classified once (activities/errors.ts); these tests play them through the sandbox.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

/** The one Salesforce call every sync makes (activities/salesforce/engine.ts). */
const COMPOSITE = '^/services/data/v[0-9.]+/composite$';

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

async function deliver(event: unknown, svixId?: string): Promise<string> {
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event, { svixId });
  expect(res.body).toEqual({ status: 'started', workflowId: res.svixId });
  return res.svixId;
}

const finish = (svixId: string): Promise<unknown> => stack.env.client.workflow.getHandle(svixId).result();

/** The failure a workflow ended with: its own message and its causes', outermost first. */
async function failureOf(svixId: string): Promise<{ messages: string[]; types: (string | undefined)[] }> {
  const err = await finish(svixId).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const messages: string[] = [];
  const types: (string | undefined)[] = [];
  for (let e = (err as Error).cause; e instanceof Error; e = e.cause) {
    messages.push(e.message);
    types.push((e as { type?: string }).type);
  }
  return { messages, types };
}

async function contactOf(userId: string) {
  const { records } = await stack.salesforce.query<Record<string, unknown>>(
    `SELECT FirstName, LastName, Email, Clerk_Status__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  return records;
}

let people = 0;
/** A sign-up in the sandbox's Clerk; its webhook is ours to deliver. */
function signUp() {
  people += 1;
  const event = stack.sandbox.services.clerk.createUser({
    firstName: 'Margaret',
    lastName: 'Hamilton',
    emailAddress: [`margaret${people}@example.com`],
  });
  return { event, userId: idOf(event), email: `margaret${people}@example.com` };
}

const calls = (service: Parameters<Stack['sandbox']['calls']>[0], path: string | RegExp) =>
  stack.sandbox
    .calls(service)
    .filter((c) => (typeof path === 'string' ? c.path === path : path.test(c.path)));

describe('transient failures are retried with backoff until they pass', () => {
  it('a Salesforce 503 storm: three failed attempts, the fourth writes the Contact', async () => {
    const fault = stack.sandbox.faults.add(
      salesforceFault('SERVER_UNAVAILABLE', { method: 'POST', path: COMPOSITE, times: 3 }),
    );
    const { event, userId } = signUp();
    const svixId = await deliver(event);

    expect(await finish(svixId)).toMatchObject({ contact: 'created' });
    const faulted = stack.sandbox.calls('salesforce').filter((c) => c.faultId === fault);
    expect(faulted.map((c) => c.status)).toEqual([503, 503, 503]);
    expect(await activitiesOf(stack, svixId)).toContainEqual({
      activity: 'onboardContact',
      attempt: 4,
      outcome: 'completed',
    });
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({ FirstName: 'Margaret', LastName: 'Hamilton', Clerk_Status__c: 'Active' }),
    ]);
  });

  it('a Clerk 429 is retried after its Retry-After, then the look-up succeeds', async () => {
    const { event, userId } = signUp();
    const path = `/v1/users/${userId}/organization_memberships`;
    stack.sandbox.faults.add(clerkRateLimited(2, { method: 'GET', path, times: 1 }));
    const svixId = await deliver(event);

    expect(await finish(svixId)).toMatchObject({ contact: 'created' });
    const lookups = calls('clerk', path);
    expect(lookups.map((c) => c.status)).toEqual([429, 200]);
    // Without Retry-After the first retry would come after the proxy's initialInterval of 1 s.
    expect(lookups[1]!.at - lookups[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(await activitiesOf(stack, svixId)).toContainEqual({
      activity: 'onboardContact',
      attempt: 2,
      outcome: 'completed',
    });
  });

  it('UNABLE_TO_LOCK_ROW is retried: the membership lands on the second attempt', async () => {
    const clerk = stack.sandbox.services.clerk;
    const { userId } = signUp();
    const organizationId = idOf(clerk.createOrganization({ name: `Apollo Guidance ${people}` }));
    const joined = clerk.addMembership({ organizationId, userId, role: 'org:admin' });
    const fault = stack.sandbox.faults.add(
      salesforceFault('UNABLE_TO_LOCK_ROW', { method: 'POST', path: COMPOSITE, times: 1 }),
    );
    const svixId = await deliver(joined);

    expect(await finish(svixId)).toEqual({ membership: 'created' });
    expect(stack.sandbox.calls('salesforce').filter((c) => c.faultId === fault)).toHaveLength(1);
    expect(await activitiesOf(stack, svixId)).toContainEqual({
      activity: 'upsertMembership',
      attempt: 2,
      outcome: 'completed',
    });
    const { records } = await stack.salesforce.query<{ Role__c: string }>(
      `SELECT Role__c FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c = '${idOf(joined)}'`,
    );
    expect(records).toEqual([expect.objectContaining({ Role__c: 'org:admin' })]);
  });

  it('an expired Salesforce session is renewed with a new client-credentials token, within the same attempt', async () => {
    const { event, userId } = signUp();
    const from = stack.sandbox.calls('salesforce').length;
    stack.sandbox.services.salesforce.control.expireSessions({});
    const svixId = await deliver(event);

    expect(await finish(svixId)).toMatchObject({ contact: 'created' });
    const seen = stack.sandbox
      .calls('salesforce')
      .slice(from)
      .map((c) => `${c.method} ${c.path.replace(/v[0-9.]+/, 'vX')} ${c.status}`);
    expect(seen).toEqual([
      'POST /services/data/vX/composite 401',
      'POST /services/oauth2/token 200',
      'POST /services/data/vX/composite 200',
    ]);
    expect(await activitiesOf(stack, svixId)).toContainEqual({
      activity: 'onboardContact',
      attempt: 1,
      outcome: 'completed',
    });
    await stack.salesforce.authorize({ grant_type: 'client_credentials' }); // the test's own session expired too
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({ LastName: 'Hamilton', Clerk_Status__c: 'Active' }),
    ]);
  });
});

describe('failures a retry cannot fix fail at once, visibly', () => {
  it('a Salesforce validation error: one attempt, the run fails with the code and message; a redelivery then completes', async () => {
    const fault = stack.sandbox.faults.add(
      salesforceFault('REQUIRED_FIELD_MISSING', { method: 'POST', path: COMPOSITE, times: 1 }),
    );
    const { event, userId } = signUp();
    const svixId = await deliver(event);

    const failure = await failureOf(svixId);
    expect(failure.types).toContain('SalesforceRejected');
    expect(failure.messages.join(' | ')).toContain(
      'REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]',
    );
    expect(stack.sandbox.calls('salesforce').filter((c) => c.faultId === fault)).toHaveLength(1);
    expect(await activitiesOf(stack, svixId)).toContainEqual({
      activity: 'onboardContact',
      attempt: 1,
      outcome: 'failed',
    });
    expect(await contactOf(userId)).toEqual([]);

    // Svix (or `clerk-sync replay`) delivers the same svix-id again: a failed run may run again.
    await deliver(event, svixId);
    expect(await finish(svixId)).toMatchObject({ contact: 'created', welcomeEmail: 'sent' });
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({ LastName: 'Hamilton', Clerk_Status__c: 'Active' }),
    ]);
  });

  test.each(['updated_at', 'id'])(
    'a user.created without data.%s fails the run at once, naming the path, before any activity',
    async (field) => {
      const { event } = signUp();
      const broken = { ...event, data: { ...event.data } as Record<string, unknown> };
      delete broken.data[field];
      const svixId = await deliver(broken);

      const failure = await failureOf(svixId);
      expect(failure.types[0]).toBe('InvalidClerkPayload');
      expect(failure.messages[0]).toMatch(
        new RegExp(`^user\\.created ${svixId} cannot be synced: data\\.${field}: `),
      );
      expect(await activitiesOf(stack, svixId)).toEqual([]);
    },
  );
});

describe('Slack is never in the way of a sync', () => {
  it('with Slack answering 500, the sync completes; the notice keeps retrying on its own and posts once Slack is back', async () => {
    const fault = stack.sandbox.faults.add(slackFault('internal_error', { status: 500 }));
    const { event, userId } = signUp();
    const svixId = await deliver(event);

    expect(await finish(svixId)).toMatchObject({ contact: 'created' });
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({ LastName: 'Hamilton', Clerk_Status__c: 'Active' }),
    ]);

    // The notice waits in the task queue's notifier, whose message (a local activity) is retried while Slack
    // refuses it.
    const refused = () => stack.sandbox.calls('slack').filter((c) => c.faultId === fault);
    await waitUntil(() => refused().length >= 2, 15_000, 'the Slack message to be retried');
    expect(refused().map((c) => c.status)).toContain(500);
    const notifier = stack.env.client.workflow.getHandle(notifierWorkflowId(stack.config.temporal.taskQueue));
    expect((await notifier.describe()).status.name).toBe('RUNNING');

    stack.sandbox.faults.remove(fault);
    await waitUntil(() => slackLines(stack.sandbox).some((l) => l.includes(userId)), 30_000, 'the notice');
    expect(slackLines(stack.sandbox).filter((l) => l.includes(userId))).toHaveLength(1);
  });
});
