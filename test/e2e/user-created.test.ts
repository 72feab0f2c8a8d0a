import { runScenario } from '@clerk-sync/sandbox';
import { salesforceApiCalls, startStack, type Stack } from '../helpers/stack';
import { slackLines } from '../helpers/slack';
import { waitUntil } from '../helpers/temporal';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const endpoint = () => ({ endpoint: `${stack.api.url}/webhooks/clerk`, secret: stack.secret });

/** Delivers the event of one Clerk change and waits for its workflow to finish. */
async function deliverAndWait(change: Parameters<typeof runScenario>[2]) {
  const deliveries = await runScenario(stack.sandbox, endpoint(), change);
  const results = [];
  for (const d of deliveries) results.push(await stack.env.client.workflow.getHandle(d.svixId).result());
  return { deliveries, results };
}

async function contactOf(userId: string) {
  const { records } = await stack.salesforce.query<Record<string, unknown>>(
    `SELECT Id, FirstName, LastName, Email, Phone, AccountId, Clerk_Status__c, Clerk_User_Id__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  return records;
}

describe('user.created', () => {
  it('upserts one active Contact with the primary email and phone, sends one welcome email and a Slack notice', async () => {
    const clerk = stack.sandbox.services.clerk;
    const before = salesforceApiCalls(stack.sandbox);
    const { deliveries, results } = await deliverAndWait([
      (c) =>
        c.createUser({
          firstName: 'Ada',
          lastName: 'Lovelace',
          username: 'ada',
          // The primary address is not the first one, as for a user who signed up with OAuth after an invitation.
          emailAddress: ['ada.old@example.com', 'ada@example.com'],
          primaryEmailAddress: 'ada@example.com',
          phoneNumber: ['+15555550100'],
        }),
    ]);
    const userId = (deliveries[0]!.event.data as { id: string }).id;
    const calls = salesforceApiCalls(stack.sandbox) - before;
    const user = clerk.store.getUser(userId);
    const primary = user.email_addresses.find((e) => e.id === user.primary_email_address_id)!.email_address;

    expect(results[0]).toEqual({ contact: 'created', memberships: 0, welcomeEmail: 'sent' });
    expect(primary).toBe('ada@example.com');
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({
        FirstName: 'Ada',
        LastName: 'Lovelace',
        Email: 'ada@example.com',
        Phone: '+15555550100',
        Clerk_Status__c: 'Active',
        AccountId: null,
      }),
    ]);
    const emails = stack.sandbox.services.resend.emails().filter((e) => e.to.includes(primary));
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: 'Acme <hello@acme.test>', subject: 'Welcome to Acme' });
    expect(emails[0]!.text).toContain('Hi Ada');
    expect(emails[0]!.html).toContain('Hi Ada');
    await waitUntil(() => slackLines(stack.sandbox).includes(`New sign-up: Ada Lovelace (${userId})`));
    expect(calls).toBe(1);
  });

  it('applies the memberships Clerk already has, with their Accounts, in at most 2 Salesforce calls', async () => {
    const clerk = stack.sandbox.services.clerk;
    // The user joined two organizations (through invitations) before the user.created webhook arrives.
    const created = clerk.createUser({
      firstName: 'Grace',
      lastName: 'Hopper',
      emailAddress: ['grace@example.com'],
    });
    const userId = (created.data as { id: string }).id;
    const orgs = ['Navy Labs', 'Cobol Co'].map(
      (name) => (clerk.createOrganization({ name }).data as { id: string }).id,
    );
    for (const organizationId of orgs) clerk.addMembership({ organizationId, userId, role: 'org:member' });

    const before = salesforceApiCalls(stack.sandbox);
    const { deliverWebhook } = await import('@clerk-sync/sandbox');
    const res = await deliverWebhook(endpoint().endpoint, stack.secret, created);
    const result = await stack.env.client.workflow.getHandle(res.svixId).result();
    expect(salesforceApiCalls(stack.sandbox) - before).toBeLessThanOrEqual(2);

    expect(result).toEqual({ contact: 'created', memberships: 2, welcomeEmail: 'sent' });
    const { records: accounts } = await stack.salesforce.query<{
      Id: string;
      Name: string;
      Clerk_Organization_Id__c: string;
    }>(
      `SELECT Id, Name, Clerk_Organization_Id__c, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c IN ('${orgs.join("','")}') ORDER BY Name`,
    );
    expect(accounts.map((a) => a.Name)).toEqual(['Cobol Co', 'Navy Labs']);
    const { records: memberships } = await stack.salesforce.query<{ Role__c: string; Account__c: string }>(
      `SELECT Role__c, Account__c, Contact__r.Clerk_User_Id__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}'`,
    );
    expect(memberships).toHaveLength(2);
    expect(memberships.every((m) => m.Role__c === 'org:member')).toBe(true);
    const [contact] = await contactOf(userId);
    expect(accounts.map((a) => a.Id)).toContain(contact!.AccountId);
    // The memberships it applied are noticed with it (no membership workflow will: they exist already).
    const notice = await waitUntil(() =>
      slackLines(stack.sandbox).find((line) => line.includes(`(${userId})`)),
    );
    expect(notice).toBe(
      `New sign-up: Grace Hopper (${userId}), joined Navy Labs as org:member, Cobol Co as org:member`,
    );
  });

  test.each([
    ['no last name: the username', { firstName: 'Alan', username: 'turing' }, 'turing'],
    [
      'no last name, no username: the email local part',
      { firstName: 'Kat', emailAddress: ['kjohnson@example.com'] },
      'kjohnson',
    ],
    ['nothing at all: Unknown', { phoneNumber: ['+15555550199'] }, 'Unknown'],
  ])('LastName falls back when Clerk has %s', async (_label, params, lastName) => {
    const { deliveries } = await deliverAndWait([(c) => c.createUser(params)]);
    const userId = (deliveries[0]!.event.data as { id: string }).id;
    expect(await contactOf(userId)).toEqual([
      expect.objectContaining({ LastName: lastName, Clerk_Status__c: 'Active' }),
    ]);
  });

  it('a user without an email address gets no welcome email', async () => {
    const { results } = await deliverAndWait([
      (c) => c.createUser({ firstName: 'Phone', phoneNumber: ['+15555550142'] }),
    ]);
    expect(results[0]).toMatchObject({ welcomeEmail: 'no address' });
  });
});
