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

async function contact(userId: string) {
  const { records } = await stack.salesforce.query<Record<string, unknown>>(
    `SELECT FirstName, LastName, Email, Phone, AccountId, Clerk_Status__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  expect(records).toHaveLength(1);
  const { attributes: _attributes, ...fields } = records[0]!;
  return fields;
}

let n = 0;
const unique = (local: string) => `${local}.${++n}@example.com`;

describe('user.updated', () => {
  it('updates the same fields; an event older than what was applied changes nothing', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createUser({
      firstName: 'Barbara',
      lastName: 'Liskov',
      emailAddress: [unique('barbara')],
    });
    const userId = idOf(created);
    const address = unique('b.liskov');
    const renamed = clerk.updateUser(userId, {
      lastName: 'Liskov-Substitution',
      emailAddress: [address],
      phoneNumber: ['+15555550111'],
    });
    const later = clerk.updateUser(userId, { firstName: 'Barb' });

    await sync(created);
    expect(await sync(later)).toEqual({ contact: 'updated' });
    // `renamed` is older than `later`: Svix delivered it late.
    expect(await sync(renamed)).toEqual({ contact: 'unchanged' });
    expect(await contact(userId)).toEqual({
      FirstName: 'Barb',
      LastName: 'Liskov-Substitution',
      Email: address,
      Phone: '+15555550111',
      AccountId: null,
      Clerk_Status__c: 'Active',
    });
  });

  it('an update that arrives before user.created creates the Contact, and no welcome email goes to an updated-only user', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createUser({
      firstName: 'Ken',
      lastName: 'Thompson',
      emailAddress: [unique('ken')],
    });
    const updated = clerk.updateUser(idOf(created), { lastName: 'Thompson-Unix' });
    const before = salesforceApiCalls(stack.sandbox);
    expect(await sync(updated)).toEqual({ contact: 'created' });
    expect(salesforceApiCalls(stack.sandbox) - before).toBe(1);
    expect(await sync(created)).toMatchObject({ contact: 'unchanged', welcomeEmail: 'sent' });
    expect(await contact(idOf(created))).toMatchObject({
      LastName: 'Thompson-Unix',
      Clerk_Status__c: 'Active',
    });
  });
});

describe('user.deleted', () => {
  it('keeps the Contact as Deleted, removes its memberships and clears AccountId; later events cannot revive it', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createUser({
      firstName: 'Radia',
      lastName: 'Perlman',
      emailAddress: [unique('radia')],
    });
    const userId = idOf(created);
    const org = idOf(clerk.createOrganization({ name: 'Spanning Trees' }));
    const joined = clerk.addMembership({ organizationId: org, userId, role: 'org:member' });
    const renamed = clerk.updateUser(userId, { firstName: 'Radia J.' });
    await sync(created);
    await sync(joined);
    expect((await contact(userId)).AccountId).not.toBeNull();

    const deleted = clerk.deleteUser(userId);
    expect(deleted.data).toEqual({ object: 'user', id: userId, deleted: true });
    expect(await sync(deleted)).toEqual({ membershipsRemoved: 1 });
    expect(await contact(userId)).toMatchObject({
      LastName: 'Perlman',
      AccountId: null,
      Clerk_Status__c: 'Deleted',
    });
    const { totalSize } = await stack.salesforce.query(
      `SELECT Id FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}'`,
    );
    expect(totalSize).toBe(0);

    // Late deliveries of older events: the fields may catch up, the deletion stays.
    await sync(renamed);
    expect(await sync(joined)).toEqual({ membership: 'skipped: no longer in Clerk' });
    expect(await contact(userId)).toMatchObject({
      FirstName: 'Radia J.',
      AccountId: null,
      Clerk_Status__c: 'Deleted',
    });
  });

  it('a deletion that arrives first leaves a Deleted Contact that the late user.created fills in but does not revive', async () => {
    const clerk = stack.sandbox.services.clerk;
    const created = clerk.createUser({
      firstName: 'Frances',
      lastName: 'Allen',
      emailAddress: [unique('frances')],
    });
    const deleted = clerk.deleteUser(idOf(created));
    await sync(deleted);
    expect(await contact(idOf(created))).toMatchObject({ LastName: 'Unknown', Clerk_Status__c: 'Deleted' });
    expect(await sync(created)).toMatchObject({ welcomeEmail: 'not this run' });
    expect(await contact(idOf(created))).toMatchObject({
      FirstName: 'Frances',
      LastName: 'Allen',
      Clerk_Status__c: 'Deleted',
    });
    expect(
      stack.sandbox.services.resend.emails().filter((e) => e.to.some((t) => t.startsWith('frances'))),
    ).toEqual([]);
  });
});
