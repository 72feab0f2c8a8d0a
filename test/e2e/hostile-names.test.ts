import { backfill } from '../../src/cli/backfill';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { idOf, startStack, syncEvent, type Stack } from '../helpers/stack';

// Names with any character (issues 11 and 12). Salesforce reads `@{…}` in a Composite subrequest as a reference to
// another subrequest's result, so a value like `@{contactOlder.records[0].Id}` could become another record's Id, or
// halt the write; SOQL needs quotes and backslashes escaped. Every such value must land in Salesforce exactly as Clerk
// has it — through the single-event plans, the batches of a user in many organizations, and the backfill.

const HOSTILE = ['@{x}', '@{contactOlder.records[0].Id}', '{!Name}', "O'Connor \\ Ünïcødé 名前 😀 @{"];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function contactOf(userId: string) {
  const { records } = await stack.salesforce.query<{ FirstName: string; LastName: string }>(
    `SELECT FirstName, LastName FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  return records.map(({ FirstName, LastName }) => ({ FirstName, LastName }));
}

async function accountNameOf(orgId: string): Promise<string | undefined> {
  const { records } = await stack.salesforce.query<{ Name: string }>(
    `SELECT Name FROM Account WHERE Clerk_Organization_Id__c = '${orgId}'`,
  );
  return records[0]?.Name;
}

async function roleOf(membershipId: string): Promise<string | undefined> {
  const { records } = await stack.salesforce.query<{ Role__c: string }>(
    `SELECT Role__c FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c = '${membershipId}'`,
  );
  return records[0]?.Role__c;
}

/** A signed event as Clerk's sender would deliver it, with `data` changed (Clerk's role keys allow no `@{`). */
const withData = (event: ClerkEvent, data: Record<string, unknown>): ClerkEvent =>
  ({ ...event, data: { ...event.data, ...data } }) as unknown as ClerkEvent;

it.each(HOSTILE)('user.created, user.updated and a membership round-trip %j exactly', async (name) => {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name: `${name} Org` });
  const user = clerk.createUser({
    firstName: name,
    lastName: `${name} Last`,
    emailAddress: [`hostile.${HOSTILE.indexOf(name)}@example.com`],
  });
  const userId = idOf(user);
  const joined = clerk.addMembership({ organizationId: idOf(org), userId });

  expect(await syncEvent(stack, user)).toMatchObject({
    contact: 'created',
    memberships: 1,
    welcomeEmail: 'sent',
  });
  expect(await contactOf(userId)).toEqual([{ FirstName: name, LastName: `${name} Last` }]);
  expect(await accountNameOf(idOf(org))).toBe(`${name} Org`);

  // The guarded update of an existing Contact: its Id comes from a reference, its values must not.
  await syncEvent(stack, clerk.updateUser(userId, { lastName: `${name} Renamed` }));
  expect(await contactOf(userId)).toEqual([{ FirstName: name, LastName: `${name} Renamed` }]);

  // A membership event whose role carries the same text.
  const m = joined.data as { id: string; updated_at: number };
  const renamed = withData(joined, { role: `org:${name}`, updated_at: m.updated_at + 1 });
  expect(await syncEvent(stack, renamed)).toEqual({ membership: 'updated' });
  expect(await roleOf(m.id)).toBe(`org:${name}`);
});

it('a user in many organizations with hostile names: the batches write them exactly', async () => {
  const clerk = stack.sandbox.services.clerk;
  const user = clerk.createUser({
    firstName: 'Many',
    lastName: HOSTILE[1],
    emailAddress: ['many.hostile@example.com'],
  });
  const userId = idOf(user);
  const orgs = Array.from({ length: 12 }, (_, i) =>
    clerk.createOrganization({ name: `${HOSTILE[i % 4]} #${i}` }),
  );
  for (const org of orgs) clerk.addMembership({ organizationId: idOf(org), userId });
  expect(await syncEvent(stack, user)).toMatchObject({ contact: 'created', memberships: 12 });
  for (const [i, org] of orgs.entries())
    expect(await accountNameOf(idOf(org))).toBe(`${HOSTILE[i % 4]} #${i}`);
  expect(await contactOf(userId)).toEqual([{ FirstName: 'Many', LastName: HOSTILE[1] }]);
});

it('the backfill writes hostile names exactly, and updates them exactly', async () => {
  const clerk = stack.sandbox.services.clerk;
  const users = HOSTILE.map((name, i) =>
    idOf(
      clerk.createUser({
        firstName: `${name} B`,
        lastName: name,
        emailAddress: [`backfill.h${i}@example.com`],
      }),
    ),
  );
  const run = () =>
    backfill(
      {},
      {
        client: stack.env.client,
        taskQueue: stack.config.temporal.taskQueue,
        out: { write: () => true, isTTY: false },
        pollMs: 50,
      },
    );
  expect((await run()).exitCode).toBe(0);
  for (const [i, userId] of users.entries())
    expect(await contactOf(userId)).toEqual([{ FirstName: `${HOSTILE[i]} B`, LastName: HOSTILE[i] }]);
  // Newer in Clerk: the backfill's guarded update carries the values exactly too.
  for (const [i, userId] of users.entries()) clerk.updateUser(userId, { firstName: `${HOSTILE[i]} C` });
  expect((await run()).exitCode).toBe(0);
  for (const [i, userId] of users.entries())
    expect(await contactOf(userId)).toEqual([{ FirstName: `${HOSTILE[i]} C`, LastName: HOSTILE[i] }]);
}, 120_000);
