import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { clerkActivities, userMembershipsToSync } from '../../src/activities/clerk';
import type { MembershipSync } from '../../src/shared/mapping';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';

// Issue 11 "Clerk list calls page through every page": the Clerk activities read lists to the end at Clerk's
// largest page (500), against the sandbox's Clerk, which pages as Clerk does (limit ≤ 500, offset, total_count).

let sandbox: Sandbox;
let clerk: ClerkClient;
beforeAll(async () => {
  sandbox = await createSandbox();
  clerk = createClerkClient({ secretKey: sandbox.env.CLERK_SECRET_KEY, apiUrl: sandbox.env.CLERK_API_URL });
});
afterAll(() => sandbox.close());

/** The Clerk organization ids of what the sign-up's look-up (`userMembershipsToSync`) answered, in its order. */
const organizationIds = (found: MembershipSync[] | 'skipped') =>
  (found as MembershipSync[]).map((m) => m.account.Clerk_Organization_Id__c);

const listCalls = (pattern: RegExp) =>
  sandbox.calls('clerk').filter((c) => c.method === 'GET' && pattern.test(c.path));

/** A user in `count` organizations, joined one millisecond apart, newest organization created first. */
function userInOrganizations(count: number, name: string): { userId: string; joined: string[] } {
  const fake = sandbox.services.clerk;
  const userId = (fake.createUser({ firstName: 'Ada', lastName: name }).data as { id: string }).id;
  const base = Date.now() - 10_000_000;
  const joined: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const org = fake.createOrganization({ name: `${name} ${i}` }).data as { id: string };
    // Joined in the reverse order of creation: the activity must sort, not trust the API's order.
    fake.addMembership({ organizationId: org.id, userId, createdAt: base + (count - i) });
    joined.unshift(org.id);
  }
  return { userId, joined };
}

describe('userMembershipsToSync (the look-up of onboardContact)', () => {
  it('reads a user in 1,100 organizations in three pages of up to 500, oldest membership first', async () => {
    const { userId, joined } = userInOrganizations(1_100, 'Agency');
    const before = listCalls(/\/organization_memberships$/).length;
    const found = await userMembershipsToSync(clerk, userId);
    expect(organizationIds(found)).toEqual(joined);
    const pages = listCalls(/\/organization_memberships$/).slice(before);
    // (@clerk/backend leaves out a zero offset)
    expect(pages.map((c) => [c.query.limit, c.query.offset ?? '0'])).toEqual([
      ['500', '0'],
      ['500', '500'],
      ['500', '1000'],
    ]);
  });

  it('stops at total_count: a user in exactly 500 organizations costs one call', async () => {
    const { userId } = userInOrganizations(500, 'Exact');
    const before = listCalls(/\/organization_memberships$/).length;
    const found = await userMembershipsToSync(clerk, userId);
    expect(found).toHaveLength(500);
    expect(listCalls(/\/organization_memberships$/).length - before).toBe(1);
  });

  it('reads to the end when the server pages smaller than asked, and keeps a row seen twice once', async () => {
    const { userId, joined } = userInOrganizations(251, 'Small');
    const all = (await clerk.users.getOrganizationMembershipList({ userId, limit: 500 })).data;
    // A Clerk that pages by 100 whatever the limit, and where a membership lands after the first page was read:
    // every later row moves one place, so the second page starts with the first page's last row again.
    let rows = all.slice(1);
    const offsets: number[] = [];
    const small = {
      users: {
        getOrganizationMembershipList: ({ offset }: { offset: number }) => {
          offsets.push(offset);
          const page = { data: rows.slice(offset, offset + 100), totalCount: rows.length };
          if (offset === 0) rows = [all[0]!, ...rows];
          return Promise.resolve(page);
        },
      },
    } as unknown as ClerkClient;
    const found = await userMembershipsToSync(small, userId);
    // The late membership sits before the offsets still to read, so this read misses it, as a read of Clerk would
    // (its own organizationMembership.created webhook brings it); the row seen twice is kept once.
    const late = all[0]!.organization.id;
    expect(organizationIds(found)).toEqual(joined.filter((id) => id !== late));
    expect(offsets).toEqual([0, 100, 200]);
  });
});

describe('createClerkOrganization', () => {
  it('finds the Account’s organization on the second page of 600 with the same name, instead of a second one', async () => {
    const fake = sandbox.services.clerk;
    const accountId = '001000000000000AAA';
    // Created first, so it comes last: the list is newest first.
    const mine = fake.createOrganization({
      name: 'Globex',
      privateMetadata: { salesforceAccountId: accountId },
    }).data as { id: string };
    for (let i = 0; i < 600; i += 1) fake.createOrganization({ name: `Globex ${i}` });
    const before = listCalls(/^\/v1\/organizations$/).length;
    const found = await clerkActivities(clerk).createClerkOrganization({ accountId, name: 'Globex' });
    expect(found).toEqual({ organizationId: mine.id, created: false });
    expect(listCalls(/^\/v1\/organizations$/).length - before).toBe(2);
  });
});
