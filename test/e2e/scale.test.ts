import {
  accountIdOf as accountOf,
  countOf,
  idOf,
  insertMembers,
  insertRecords,
  salesforceApiCalls,
  startStack,
  syncEvent,
  type Stack,
} from '../helpers/stack';

// Real sizes (issue 11): an organization with thousands of members, a user in hundreds of organizations. Each
// workflow ends COMPLETED only with every record it was responsible for written, which is what these tests count
// in Salesforce, as a Salesforce user would.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

const count = (soql: string) => countOf(stack, soql);
const insert = (type: string, records: Record<string, unknown>[]) => insertRecords(stack, type, records);
const accountIdOf = (orgId: string) => accountOf(stack, orgId);

it('organization.deleted of an organization with 5,000 members: every membership removed, every Contact moved', async () => {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name: 'Enormous Enterprises' });
  const others = Array.from({ length: 5 }, (_, i) => clerk.createOrganization({ name: `Elsewhere ${i}` }));
  for (const o of [org, ...others]) await syncEvent(stack, o);
  const accountId = await accountIdOf(idOf(org));
  const otherIds = await Promise.all(others.map((o) => accountIdOf(idOf(o))));

  const N = 5000;
  const contacts = await insertMembers(stack, accountId, N, 'scale_org');
  // Half of them also belong to one other organization: that is where they move.
  await insert(
    'Clerk_Membership__c',
    contacts.flatMap((contactId, i) =>
      i % 2 === 0
        ? [
            {
              Clerk_Membership_Id__c: `orgmem_scale_other_${i}`,
              Role__c: 'org:member',
              Contact__c: contactId,
              Account__c: otherIds[i % 5],
            },
          ]
        : [],
    ),
  );
  expect(await count(`SELECT COUNT() FROM Clerk_Membership__c WHERE Account__c = '${accountId}'`)).toBe(N);

  const before = salesforceApiCalls(stack.sandbox);
  const started = Date.now();
  expect(await syncEvent(stack, clerk.deleteOrganization(idOf(org)))).toEqual({
    membershipsRemoved: N,
    contactsMoved: N,
  });
  const calls = salesforceApiCalls(stack.sandbox) - before;
  console.log(`organization.deleted, ${N} members: ${calls} Salesforce calls, ${Date.now() - started} ms`);

  expect(await count(`SELECT COUNT() FROM Clerk_Membership__c WHERE Account__c = '${accountId}'`)).toBe(0);
  expect(await count(`SELECT COUNT() FROM Contact WHERE AccountId = '${accountId}'`)).toBe(0);
  const { records } = await stack.salesforce.query<{ Clerk_Status__c: string }>(
    `SELECT Clerk_Status__c FROM Account WHERE Id = '${accountId}'`,
  );
  expect(records[0]!.Clerk_Status__c).toBe('Deleted');
  // Those with another membership moved to it; the others have no Account.
  for (const [i, otherId] of otherIds.entries()) {
    expect(await count(`SELECT COUNT() FROM Contact WHERE AccountId = '${otherId}'`)).toBe(N / 10);
    expect(i).toBeLessThan(5);
  }
  expect(
    await count(
      `SELECT COUNT() FROM Contact WHERE Clerk_User_Id__c LIKE 'user_scale_org_%' AND AccountId = null`,
    ),
  ).toBe(N / 2);
  // Salesforce's budget: at most one API call per 150 records touched (memberships + Contacts).
  expect(calls).toBeLessThanOrEqual((2 * N) / 150);
}, 600_000);

it('user.created of a user in 600 organizations, 250 ms a Salesforce call: 600 memberships, one welcome email; user.deleted removes them', async () => {
  const clerk = stack.sandbox.services.clerk;
  const user = clerk.createUser({
    firstName: 'Agnes',
    lastName: 'Agency',
    emailAddress: ['agnes.agency@example.com'],
  });
  const userId = idOf(user);
  const M = 600;
  for (let i = 0; i < M; i += 1) {
    const org = clerk.createOrganization({ name: `Client ${i}` });
    clerk.addMembership({
      organizationId: idOf(org),
      userId,
      role: i % 7 === 0 ? 'org:admin' : 'org:member',
    });
  }
  stack.sandbox.faults.add({ service: 'salesforce', path: /^\/services\/data\/v/, latencyMs: 250 });

  const before = salesforceApiCalls(stack.sandbox);
  const started = Date.now();
  expect(await syncEvent(stack, user)).toEqual({
    contact: 'created',
    memberships: M,
    welcomeEmail: 'sent',
  });
  console.log(
    `user.created, ${M} organizations at 250 ms a call: ${salesforceApiCalls(stack.sandbox) - before} Salesforce calls, ${Date.now() - started} ms`,
  );
  stack.sandbox.faults.clear();

  const memberships = `SELECT COUNT() FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}'`;
  expect(await count(memberships)).toBe(M);
  expect(
    await count(
      `SELECT COUNT() FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}' AND Role__c = 'org:admin'`,
    ),
  ).toBe(Math.ceil(M / 7));
  expect(await count(`SELECT COUNT() FROM Account WHERE Name LIKE 'Client %'`)).toBe(M);
  // The Contact's Account is the organization the user joined first.
  const { records } = await stack.salesforce.query<{ Account: { Name: string } }>(
    `SELECT Account.Name FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  expect(records[0]!.Account.Name).toBe('Client 0');
  expect(
    stack.sandbox.services.resend.emails().filter((e) => e.to.includes('agnes.agency@example.com')),
  ).toHaveLength(1);

  expect(await syncEvent(stack, clerk.deleteUser(userId))).toEqual({ membershipsRemoved: M });
  expect(await count(memberships)).toBe(0);
}, 600_000);
