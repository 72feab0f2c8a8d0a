import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { salesforceApiCalls, startStack, type Stack } from '../helpers/stack';

// "Few Salesforce calls": the API calls each event type costs, counted in the sandbox's call log (the OAuth token
// call is not an API call). The numbers are the contract the benchmark reports against.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

async function callsFor(event: ClerkEvent): Promise<number> {
  const before = salesforceApiCalls(stack.sandbox);
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
  await stack.env.client.workflow.getHandle(res.svixId).result();
  return salesforceApiCalls(stack.sandbox) - before;
}

it('costs one call per event (a membership removal included), two for a user deletion with memberships', async () => {
  const clerk = stack.sandbox.services.clerk;
  const orgA = clerk.createOrganization({ name: 'Calls A' });
  const orgB = clerk.createOrganization({ name: 'Calls B' });
  const user = clerk.createUser({
    firstName: 'Ada',
    lastName: 'Calls',
    emailAddress: ['ada.calls@example.com'],
  });
  const userId = idOf(user);
  // Joined both before user.created lands: user.created applies both memberships.
  clerk.addMembership({ organizationId: idOf(orgA), userId, role: 'org:member' });
  const joinB = clerk.addMembership({ organizationId: idOf(orgB), userId, role: 'org:member' });

  const measured: Record<string, number> = {};
  measured['user.created (2 memberships)'] = await callsFor(user);
  measured['organization.created'] = await callsFor(orgA);
  measured['user.updated'] = await callsFor(clerk.updateUser(userId, { lastName: 'Counted' }));
  measured['organization.updated'] = await callsFor(
    clerk.updateOrganization(idOf(orgA), { name: 'Calls A2' }),
  );
  measured['organizationMembership.created'] = await callsFor(joinB);
  measured['organizationMembership.updated'] = await callsFor(
    clerk.updateMembership({ organizationId: idOf(orgB), userId, role: 'org:admin' }),
  );
  measured['organizationMembership.deleted'] = await callsFor(
    clerk.removeMembership({ organizationId: idOf(orgB), userId }),
  );
  measured['organization.deleted (1 member)'] = await callsFor(clerk.deleteOrganization(idOf(orgA)));
  const other = clerk.createUser({
    firstName: 'Bo',
    lastName: 'Calls',
    emailAddress: ['bo.calls@example.com'],
  });
  await callsFor(other);
  measured['user.deleted (no memberships)'] = await callsFor(clerk.deleteUser(idOf(other)));
  const orgC = clerk.createOrganization({ name: 'Calls C' });
  await callsFor(clerk.addMembership({ organizationId: idOf(orgC), userId, role: 'org:member' }));
  measured['user.deleted (1 membership)'] = await callsFor(clerk.deleteUser(userId));

  expect(measured).toEqual({
    'user.created (2 memberships)': 1,
    'organization.created': 1,
    'user.updated': 1,
    'organization.updated': 1,
    'organizationMembership.created': 1,
    'organizationMembership.updated': 1,
    'organizationMembership.deleted': 1,
    'organization.deleted (1 member)': 3,
    'user.deleted (no memberships)': 1,
    'user.deleted (1 membership)': 2,
  });
});
