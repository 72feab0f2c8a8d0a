import { createClerkClient } from '@clerk/backend';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  backfillActivities,
  type BackfillPageRequest,
  type BackfillPageResult,
} from '../../src/activities/backfill';
import type { SalesforceSession } from '../../src/activities/salesforce';
import { idOf, startStack, syncEvent, type Stack } from '../helpers/stack';

// The backfill never overwrites newer data (issue 11): a webhook that lands between a backfill page's read of
// Salesforce and its write keeps what it wrote. The page activity runs here as the worker runs it, over a jsforce
// connection that lets the webhook's whole sync happen at exactly that moment.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

interface CompositeBody {
  compositeRequest: { method: string }[];
}

/** The test's jsforce connection, which runs `beforeWrite` once before the first Composite call that writes. */
function interceptedSession(beforeWrite: () => Promise<void>): SalesforceSession {
  let pending: (() => Promise<void>) | undefined = beforeWrite;
  const conn = new Proxy(stack.salesforce, {
    get(target, prop, receiver) {
      if (prop !== 'requestPost') return Reflect.get(target, prop, receiver) as unknown;
      return async (url: string, body: CompositeBody, options?: object) => {
        const writes = url === '/composite' && body.compositeRequest.some((s) => s.method !== 'GET');
        if (writes && pending) {
          const run = pending;
          pending = undefined;
          await run();
        }
        return target.requestPost(url, body, options);
      };
    },
  });
  return { apiVersion: '62.0', connection: () => Promise.resolve(conn) };
}

async function contactOf(userId: string) {
  const { records } = await stack.salesforce.query<{ LastName: string; Clerk_Updated_At__c: number }>(
    `SELECT LastName, Clerk_Updated_At__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  return records[0];
}

it("a webhook's newer write that lands while a backfill page is in flight survives the backfill", async () => {
  const clerk = stack.sandbox.services.clerk;
  const user = clerk.createUser({
    firstName: 'Rae',
    lastName: 'Original',
    emailAddress: ['rae.race@example.com'],
  });
  const userId = idOf(user);
  await syncEvent(stack, user);
  // Clerk moves on (Salesforce is now older than Clerk): the backfill has something to update.
  clerk.updateUser(userId, { lastName: 'Listed By The Backfill' });

  let newer: number | undefined;
  const session = interceptedSession(async () => {
    // The page has listed Clerk and read Salesforce; now a newer change lands through its webhook.
    const event = clerk.updateUser(userId, { lastName: 'Newer From The Webhook' });
    newer = (event.data as { updated_at: number }).updated_at;
    await syncEvent(stack, event);
  });
  const clerkClient = createClerkClient({
    secretKey: stack.sandbox.env.CLERK_SECRET_KEY,
    apiUrl: stack.sandbox.env.CLERK_API_URL,
  });
  const activities = backfillActivities(session, clerkClient);
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const request: BackfillPageRequest = {
    cursor: { phase: 'users', offset: 0, organizationIndex: 0 },
    pageSize: 200,
    dryRun: false,
  };
  const result: BackfillPageResult = await env.run(
    (input: BackfillPageRequest) => activities.backfillUsersPage(input),
    request,
  );

  expect(newer).toBeDefined();
  expect(await contactOf(userId)).toEqual(
    expect.objectContaining({ LastName: 'Newer From The Webhook', Clerk_Updated_At__c: newer }),
  );
  // The page counted it as unchanged: Salesforce already held something newer when the write came.
  expect(result.counts.users).toMatchObject({ failed: 0 });
  expect(result.counts.users!.unchanged).toBeGreaterThanOrEqual(1);
});
