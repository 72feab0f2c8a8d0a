import type { ClerkEvent } from '@clerk-sync/sandbox';
import { idOf, salesforceApiCalls, startStack, syncEvent, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const sync = (event: ClerkEvent) => syncEvent(stack, event);

async function account(orgId: string) {
  const { records } = await stack.salesforce.query<Record<string, unknown>>(
    `SELECT Name, Clerk_Slug__c, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c = '${orgId}'`,
  );
  return records.map(({ attributes: _a, ...fields }) => fields);
}

describe('organization.created / .updated', () => {
  it('upserts one Account on the Clerk organization id, in one Salesforce call each', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createOrganization({ name: 'Relay Systems', slug: 'relay-systems' });
    const orgId = idOf(created);
    let before = salesforceApiCalls(stack.sandbox);
    expect(await sync(created)).toEqual({ account: 'created' });
    expect(salesforceApiCalls(stack.sandbox) - before).toBe(1);
    expect(await account(orgId)).toEqual([
      { Name: 'Relay Systems', Clerk_Slug__c: 'relay-systems', Clerk_Status__c: 'Active' },
    ]);

    const renamed = clerk.updateOrganization(orgId, {
      name: 'Relay Systems International',
      slug: 'relay-intl',
    });
    before = salesforceApiCalls(stack.sandbox);
    expect(await sync(renamed)).toEqual({ account: 'updated' });
    expect(await sync(created)).toEqual({ account: 'unchanged' }); // a late redelivery of the older event
    expect(salesforceApiCalls(stack.sandbox) - before).toBe(2);
    expect(await account(orgId)).toEqual([
      { Name: 'Relay Systems International', Clerk_Slug__c: 'relay-intl', Clerk_Status__c: 'Active' },
    ]);
  });
});

describe('organization.deleted', () => {
  it('keeps the Account as Deleted, removes its memberships and moves its members to their other Account', async () => {
    const clerk = stack.sandbox.services.clerk;
    const orgA = clerk.createOrganization({ name: 'Punch Card Partners' });
    const orgB = clerk.createOrganization({ name: 'Compiler Co' });
    const user = clerk.createUser({
      firstName: 'Donald',
      lastName: 'Knuth',
      emailAddress: ['donald.org@example.com'],
    });
    const userId = idOf(user);
    await sync(orgA);
    await sync(orgB);
    await sync(clerk.addMembership({ organizationId: idOf(orgA), userId, role: 'org:admin' }));
    await sync(clerk.addMembership({ organizationId: idOf(orgB), userId, role: 'org:member' }));

    const deleted = clerk.deleteOrganization(idOf(orgA));
    expect(deleted.data).toMatchObject({ object: 'organization', id: idOf(orgA), deleted: true });
    expect(await sync(deleted)).toEqual({ membershipsRemoved: 1, contactsMoved: 1 });

    expect(await account(idOf(orgA))).toEqual([
      expect.objectContaining({ Name: 'Punch Card Partners', Clerk_Status__c: 'Deleted' }),
    ]);
    const { records } = await stack.salesforce.query<{ Account: { Clerk_Organization_Id__c: string } }>(
      `SELECT Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
    );
    expect(records[0]!.Account.Clerk_Organization_Id__c).toBe(idOf(orgB));
    const { records: memberships } = await stack.salesforce.query<{
      Account__r: { Clerk_Organization_Id__c: string };
    }>(
      `SELECT Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}'`,
    );
    expect(memberships.map((m) => m.Account__r.Clerk_Organization_Id__c)).toEqual([idOf(orgB)]);

    // A late rename does not revive it.
    await sync(orgA);
    expect(await account(idOf(orgA))).toEqual([expect.objectContaining({ Clerk_Status__c: 'Deleted' })]);
  });

  it('a deletion that arrives first leaves a Deleted Account named by the slug', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createOrganization({ name: 'Difference Labs', slug: 'difference-labs' });
    await sync(clerk.deleteOrganization(idOf(created)));
    expect(await account(idOf(created))).toEqual([
      { Name: 'difference-labs', Clerk_Slug__c: 'difference-labs', Clerk_Status__c: 'Deleted' },
    ]);
    await sync(created);
    expect(await account(idOf(created))).toEqual([
      { Name: 'Difference Labs', Clerk_Slug__c: 'difference-labs', Clerk_Status__c: 'Deleted' },
    ]);
  });
});
