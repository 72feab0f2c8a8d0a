import { WorkflowNotFoundError } from '@temporalio/client';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { startTestApi } from '../helpers/api';
import { OPERATOR_API_KEY, startStack, type Stack } from '../helpers/stack';
import { uniqueTaskQueue } from '../helpers/temporal';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function post(body: unknown, key: string | null = OPERATOR_API_KEY, url = stack.api.url) {
  return fetch(`${url}/api/organizations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function newAccount(name: string): Promise<string> {
  const res = await stack.salesforce.sobject('Account').create({ Name: name });
  if (!res.success) throw new Error('account not created');
  return res.id;
}

async function accountsLinkedTo(organizationId: string) {
  const { records } = await stack.salesforce.query<{ Id: string; Name: string }>(
    `SELECT Id, Name FROM Account WHERE Clerk_Organization_Id__c = '${organizationId}'`,
  );
  return records.map((r) => ({ Id: r.Id, Name: r.Name }));
}

/** Waits for the webhooks the sandbox's Clerk sent (organization.created, the creator's membership) to be synced. */
async function webhooksSynced(): Promise<void> {
  await stack.sandbox.services.clerk.webhooksIdle();
  for (const d of stack.sandbox.services.clerk.webhookDeliveries()) {
    await stack.env.client.workflow.getHandle(d.svixId).result();
  }
}

describe('POST /api/organizations', () => {
  it('without CLERK_SYNC_API_KEY configured, the route does not exist', async () => {
    const api = await startTestApi({
      client: stack.env.client,
      taskQueue: uniqueTaskQueue('noop'),
      secrets: [stack.secret],
    });
    try {
      expect((await post({ accountId: '001000000000001AAA' }, 'whatever', api.url)).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  test.each([
    ['no Authorization header', null],
    ['a wrong key', 'not-the-operator-key-000'],
  ])('with %s: 401', async (_label, key) => {
    const res = await post({ accountId: '001000000000001AAA' }, key);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  test.each([
    ['not JSON', 'account=001', 'invalid_json'],
    ['no accountId', {}, 'invalid_request'],
    ['a Contact id', { accountId: '003000000000001AAA' }, 'invalid_request'],
    ['a bad createdBy', { accountId: '001000000000001AAA', createdBy: 'ada@example.com' }, 'invalid_request'],
  ])('with %s: 400 and nothing started', async (_label, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code } });
  });

  it('creates one Clerk organization named after the Account, links both, and the webhooks land on that Account', async () => {
    const accountId = await newAccount('Analytical Engines Ltd');
    const creator = stack.sandbox.services.clerk.createUser({
      firstName: 'Charles',
      lastName: 'Babbage',
      emailAddress: ['charles@example.com'],
    });
    const createdBy = (creator.data as { id: string }).id;

    const res = await post({ accountId, createdBy });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; workflowId: string };
    expect(body).toEqual({ status: 'started', workflowId: `create-organization/${accountId}` });
    const result = await stack.env.client.workflow.getHandle(body.workflowId).result();
    expect(result).toEqual({ organizationId: expect.stringMatching(/^org_/), accountId, created: true });
    const { organizationId } = result as { organizationId: string };

    const org = stack.sandbox.services.clerk.store.getOrganization(organizationId);
    expect(org).toMatchObject({
      name: 'Analytical Engines Ltd',
      private_metadata: { salesforceAccountId: accountId },
    });
    await webhooksSynced();
    expect(await accountsLinkedTo(organizationId)).toEqual([
      { Id: accountId, Name: 'Analytical Engines Ltd' },
    ]);
    // The creator's membership landed on the same Account.
    const { records } = await stack.salesforce.query<{ Account__c: string }>(
      `SELECT Account__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${createdBy}'`,
    );
    expect(records.map((r) => r.Account__c)).toEqual([accountId]);

    // Idempotent per Account: asking again starts nothing new.
    const again = await post({ accountId, createdBy });
    expect(await again.json()).toEqual({
      status: 'duplicate',
      workflowId: `create-organization/${accountId}`,
    });
  });

  it('when the organization.created webhook arrives before the link, it still lands on the Account', async () => {
    const accountId = await newAccount('Enigma Works Plc');
    const clerk = stack.sandbox.services.clerk;
    clerk.setWebhook(undefined); // hold Clerk's webhooks back to deliver them ourselves, first
    try {
      // As if the workflow's Clerk step ran and its answer was lost before the link.
      const created = clerk.createOrganization({
        name: 'Enigma Works Plc',
        privateMetadata: { salesforceAccountId: accountId },
      });
      const organizationId = (created.data as { id: string }).id;
      const delivered = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, created);
      await stack.env.client.workflow.getHandle(delivered.svixId).result();
      expect(await accountsLinkedTo(organizationId)).toEqual([{ Id: accountId, Name: 'Enigma Works Plc' }]);

      const res = await post({ accountId });
      const { workflowId } = (await res.json()) as { workflowId: string };
      // The Account is already linked: the workflow finds it so, and Clerk gets no second organization.
      expect(await stack.env.client.workflow.getHandle(workflowId).result()).toEqual({
        organizationId,
        accountId,
        created: false,
      });
      expect(
        clerk.store.listOrganizations({ query: 'Enigma Works Plc' }, { limit: 100, offset: 0 }).total_count,
      ).toBe(1);
      expect(await accountsLinkedTo(organizationId)).toEqual([{ Id: accountId, Name: 'Enigma Works Plc' }]);
    } finally {
      clerk.setWebhook({ url: `${stack.api.url}/webhooks/clerk`, secret: stack.secret });
    }
  });

  it('an Account that does not exist fails the workflow with a clear message', async () => {
    const res = await post({ accountId: '001000000000404AAA' });
    const { workflowId } = (await res.json()) as { workflowId: string };
    await expect(stack.env.client.workflow.getHandle(workflowId).result()).rejects.toMatchObject({
      cause: { message: 'Salesforce has no Account 001000000000404AAA' },
    });
  });
});

// Issue 12 "Operator API ids": "once per Account" held per id string; the 15- and 18-character forms of one Account
// (and the 18 in another case) started two workflows, and could create two Clerk organizations.
describe('POST /api/organizations with the forms of one Account Id', () => {
  const answer = async (accountId: string) => {
    const res = await post({ accountId });
    return { status: res.status, body: await res.json() };
  };

  it('the 15-character form, the 18 and the 18 in another case start one workflow, keyed on the 18', async () => {
    const id18 = await newAccount('Case Safe Holdings'); // the REST API answers the 18-character form
    const id15 = id18.slice(0, 15);
    const workflowId = `create-organization/${id18}`;

    expect(await answer(id15)).toEqual({ status: 202, body: { status: 'started', workflowId } });
    for (const form of [id18, id18.toLowerCase(), id18.toUpperCase()])
      expect({ form, ...(await answer(form)) }).toEqual({
        form,
        status: 202,
        body: { status: 'duplicate', workflowId },
      });

    const result = await stack.env.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ accountId: id18, created: true });
    const { data } = stack.sandbox.services.clerk.store.listOrganizations(
      { query: 'Case Safe Holdings' },
      { limit: 100, offset: 0 },
    );
    expect(data.map((o) => o.id)).toEqual([(result as { organizationId: string }).organizationId]);
    // Still once after it completed, whichever form comes.
    expect((await answer(id15)).body).toEqual({ status: 'duplicate', workflowId });
  });

  test.each([
    ['a suffix that does not match the first 15 characters', '001000000000001AAB'],
    ['a suffix letter Salesforce never writes', '0015g00000ABCDEAA9'],
  ])('refuses an 18-character id with %s: 400, nothing started', async (_label, accountId) => {
    expect(await answer(accountId)).toEqual({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'accountId: is not a Salesforce Id: its last 3 characters do not match the first 15',
        },
      },
    });
    for (const id of [accountId, accountId.toUpperCase()])
      await expect(
        stack.env.client.workflow.getHandle(`create-organization/${id}`).describe(),
      ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
