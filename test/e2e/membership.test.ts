import { clerkRateLimited, deliverWebhook } from '@clerk-sync/sandbox';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { slackLines } from '../helpers/slack';
import { activitiesOf, salesforceApiCalls, startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

async function deliver(event: ClerkEvent, svixId?: string) {
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event, { svixId });
  expect(res.status).toBeLessThan(300);
  return res.svixId;
}

async function finish(svixId: string): Promise<unknown> {
  return stack.env.client.workflow.getHandle(svixId).result();
}

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

async function memberships(userId: string) {
  const { records } = await stack.salesforce.query<{
    Clerk_Membership_Id__c: string;
    Role__c: string;
    Account__r: { Clerk_Organization_Id__c: string };
  }>(
    `SELECT Clerk_Membership_Id__c, Role__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = '${userId}' ORDER BY Clerk_Membership_Id__c`,
  );
  return records.map((r) => ({
    id: r.Clerk_Membership_Id__c,
    role: r.Role__c,
    org: r.Account__r.Clerk_Organization_Id__c,
  }));
}

async function contact(userId: string) {
  const { records } = await stack.salesforce.query<{
    Id: string;
    LastName: string;
    AccountId: string | null;
    Account: { Clerk_Organization_Id__c: string } | null;
  }>(
    `SELECT Id, LastName, Email, AccountId, Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  expect(records).toHaveLength(1);
  return { ...records[0]!, org: records[0]!.Account?.Clerk_Organization_Id__c ?? null };
}

/** A user and two organizations that exist in Clerk only: Salesforce has heard of none of them yet. */
let people = 0;
function newPeople() {
  const clerk = stack.sandbox.services.clerk;
  people += 1;
  const user = clerk.createUser({
    firstName: 'Edsger',
    lastName: 'Dijkstra',
    emailAddress: [`edsger${people}@example.com`],
  });
  const orgA = clerk.createOrganization({ name: 'Shortest Paths' });
  const orgB = clerk.createOrganization({ name: 'Semaphores' });
  return { clerk, userId: idOf(user), orgA: idOf(orgA), orgB: idOf(orgB) };
}

describe('organizationMembership.created / .updated', () => {
  it('a membership that arrives before its user and organization creates both, links them, in one Salesforce call', async () => {
    const { clerk, userId, orgA } = newPeople();
    const joined = clerk.addMembership({ organizationId: orgA, userId, role: 'org:admin' });
    const before = salesforceApiCalls(stack.sandbox);
    const svixId = await deliver(joined);
    expect(await finish(svixId)).toEqual({ membership: 'created' });
    expect(salesforceApiCalls(stack.sandbox) - before).toBe(1);
    // Issue 13: one activity, which looks the membership up in Clerk before it writes.
    expect(await activitiesOf(stack, svixId)).toEqual([
      { activity: 'upsertMembership', attempt: 1, outcome: 'completed' },
    ]);

    expect(await memberships(userId)).toEqual([{ id: idOf(joined), role: 'org:admin', org: orgA }]);
    const c = await contact(userId);
    expect(c).toMatchObject({ LastName: 'Dijkstra', org: orgA });
    const { records: accounts } = await stack.salesforce.query<{ Name: string; Clerk_Status__c: string }>(
      `SELECT Name, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c = '${orgA}'`,
    );
    expect(accounts).toEqual([
      expect.objectContaining({ Name: 'Shortest Paths', Clerk_Status__c: 'Active' }),
    ]);
  });

  it('a role change updates Role__c; an older event arriving later changes nothing', async () => {
    const { clerk, userId, orgA } = newPeople();
    const joined = clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' });
    const promoted = clerk.updateMembership({ organizationId: orgA, userId, role: 'org:admin' });
    await finish(await deliver(joined));
    expect(await finish(await deliver(promoted))).toEqual({ membership: 'updated' });
    expect(await memberships(userId)).toEqual([{ id: idOf(joined), role: 'org:admin', org: orgA }]);
    // A redelivery of the old `created` under a new svix-id (a replay from the Clerk dashboard, say).
    expect(await finish(await deliver(joined))).toEqual({ membership: 'unchanged' });
    expect(await memberships(userId)).toEqual([{ id: idOf(joined), role: 'org:admin', org: orgA }]);
  });

  it('keeps the first Account as the Contact AccountId when a second membership arrives', async () => {
    const { clerk, userId, orgA, orgB } = newPeople();
    await finish(await deliver(clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' })));
    await finish(await deliver(clerk.addMembership({ organizationId: orgB, userId, role: 'org:member' })));
    expect((await contact(userId)).org).toBe(orgA);
    expect((await memberships(userId)).map((m) => m.org).sort()).toEqual([orgA, orgB].sort());
  });
});

describe('organizationMembership.deleted', () => {
  it('removes the membership and moves AccountId to another remaining membership, then clears it', async () => {
    const { clerk, userId, orgA, orgB } = newPeople();
    await finish(await deliver(clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' })));
    await finish(await deliver(clerk.addMembership({ organizationId: orgB, userId, role: 'org:member' })));

    expect(await finish(await deliver(clerk.removeMembership({ organizationId: orgA, userId })))).toEqual({
      removed: true,
      accountMoved: true,
    });
    expect((await memberships(userId)).map((m) => m.org)).toEqual([orgB]);
    expect((await contact(userId)).org).toBe(orgB);

    expect(await finish(await deliver(clerk.removeMembership({ organizationId: orgB, userId })))).toEqual({
      removed: true,
      accountMoved: true,
    });
    expect(await memberships(userId)).toEqual([]);
    expect((await contact(userId)).AccountId).toBeNull();
  });

  it('is final: an older created event arriving after the deletion does not bring the membership back', async () => {
    const { clerk, userId, orgA } = newPeople();
    const joined = clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' });
    const left = clerk.removeMembership({ organizationId: orgA, userId });
    await finish(await deliver(left));
    const before = salesforceApiCalls(stack.sandbox);
    const svixId = await deliver(joined);
    expect(await finish(svixId)).toEqual({ membership: 'skipped: no longer in Clerk' });
    // Clerk is asked first, inside the upsert's one activity: Salesforce is not called at all.
    expect(salesforceApiCalls(stack.sandbox) - before).toBe(0);
    expect(await memberships(userId)).toEqual([]);
    expect(await activitiesOf(stack, svixId)).toEqual([
      { activity: 'upsertMembership', attempt: 1, outcome: 'completed' },
    ]);
  });

  it("Clerk's 429 on the look-up is retried after its Retry-After, then the membership is written", async () => {
    const { clerk, userId, orgA } = newPeople();
    const joined = clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' });
    const path = `/v1/organizations/${orgA}/memberships`;
    const limited = stack.sandbox.faults.add(clerkRateLimited(2, { method: 'GET', path, times: 1 }));
    const svixId = await deliver(joined);

    expect(await finish(svixId)).toEqual({ membership: 'created' });
    const lookups = stack.sandbox.calls('clerk').filter((c) => c.path === path);
    expect(lookups.map((c) => c.status)).toEqual([429, 200]);
    expect(lookups[0]!.faultId).toBe(limited);
    // Classified as Clerk's (which reads Retry-After), not Salesforce's: without it the retry would come after the
    // proxy's initialInterval of 1 s.
    expect(lookups[1]!.at - lookups[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(await activitiesOf(stack, svixId)).toEqual([
      { activity: 'upsertMembership', attempt: 2, outcome: 'completed' },
    ]);
    expect(await memberships(userId)).toEqual([{ id: idOf(joined), role: 'org:member', org: orgA }]);
  });

  it('a saga: the Contact move rejected for good rolls back the membership removal, and a replay then succeeds', async () => {
    const { clerk, userId, orgA, orgB } = newPeople();
    await finish(await deliver(clerk.addMembership({ organizationId: orgA, userId, role: 'org:admin' })));
    await finish(await deliver(clerk.addMembership({ organizationId: orgB, userId, role: 'org:member' })));
    const before = { memberships: await memberships(userId), contact: await contact(userId) };

    // An admin's validation rule rejects every change of a Contact's Account; the membership's deletion, in the
    // same composite call, goes through.
    const sf = stack.sandbox.services.salesforce;
    const rule = sf.addValidationRule({
      object: 'Contact',
      on: 'update',
      field: 'AccountId',
      message: 'Contacts of key accounts cannot change account',
    });
    const left = clerk.removeMembership({ organizationId: orgA, userId });
    const svixId = await deliver(left);
    const failure = await finish(svixId).catch((err: unknown) => err);
    sf.removeValidationRule(rule);
    expect(String((failure as { cause?: Error }).cause?.message)).toMatch(
      /removing membership .* failed at "move the Contact to another Account" \(FIELD_CUSTOM_VALIDATION_EXCEPTION: .*Contacts of key accounts cannot change account\); rolled back: restore membership$/,
    );
    expect(await memberships(userId)).toEqual(before.memberships);
    expect((await contact(userId)).org).toBe(before.contact.org);

    // The operator's replay: Clerk redelivers the same svix-id; a failed run may run again.
    const again = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, left, { svixId });
    expect(again.body).toEqual({ status: 'started', workflowId: svixId });
    expect(await finish(svixId)).toEqual({ removed: true, accountMoved: true });
    expect((await memberships(userId)).map((m) => m.org)).toEqual([orgB]);
    expect((await contact(userId)).org).toBe(orgB);
  });

  it('a saga: the membership deletion rejected for good (a trigger) puts the Contact back on its Account', async () => {
    const { clerk, userId, orgA, orgB } = newPeople();
    await finish(await deliver(clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' })));
    await finish(await deliver(clerk.addMembership({ organizationId: orgB, userId, role: 'org:member' })));
    const before = { memberships: await memberships(userId), contact: await contact(userId) };

    const sf = stack.sandbox.services.salesforce;
    const rule = sf.addValidationRule({
      object: 'Clerk_Membership__c',
      on: 'delete',
      message: 'Memberships are archived, not deleted',
    });
    const failure = await finish(
      await deliver(clerk.removeMembership({ organizationId: orgA, userId })),
    ).catch((err: unknown) => err);
    sf.removeValidationRule(rule);
    expect(String((failure as { cause?: Error }).cause?.message)).toMatch(
      /failed at "remove membership" \(FIELD_CUSTOM_VALIDATION_EXCEPTION: .*Memberships are archived, not deleted\); rolled back: restore AccountId$/,
    );
    expect(await memberships(userId)).toEqual(before.memberships);
    expect((await contact(userId)).org).toBe(before.contact.org);
  });

  it('a transient failure of one part (a locked row) is retried, not rolled back: the removal completes', async () => {
    const { clerk, userId, orgA, orgB } = newPeople();
    await finish(await deliver(clerk.addMembership({ organizationId: orgA, userId, role: 'org:member' })));
    await finish(await deliver(clerk.addMembership({ organizationId: orgB, userId, role: 'org:member' })));
    // The first attempt deletes the membership but cannot move the Contact; the retry moves it.
    stack.sandbox.services.salesforce.addValidationRule({
      object: 'Contact',
      on: 'update',
      field: 'AccountId',
      errorCode: 'UNABLE_TO_LOCK_ROW',
      message: 'unable to obtain exclusive access to this record',
      times: 2,
    });
    const leftNotices = () =>
      slackLines(stack.sandbox).filter((l) => l === 'Edsger Dijkstra left Shortest Paths').length;
    const noticesBefore = leftNotices();
    const svixId = await deliver(clerk.removeMembership({ organizationId: orgA, userId }));
    // The second attempt finds the membership in the recycle bin: the first attempt of this delivery removed it.
    expect(await finish(svixId)).toEqual({ removed: true, accountMoved: true });
    await waitUntil(() => leftNotices() > noticesBefore, 10_000, 'the notice of the removal');
    expect(await activitiesOf(stack, svixId)).toEqual([
      { activity: 'deleteMembershipAndMoveContact', attempt: 2, outcome: 'completed' },
    ]);
    expect((await memberships(userId)).map((m) => m.org)).toEqual([orgB]);
    expect((await contact(userId)).org).toBe(orgB);
  });
});
