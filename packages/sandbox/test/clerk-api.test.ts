import { createClerkClient } from '@clerk/backend';
import type { ClerkAPIResponseError } from '@clerk/backend/errors';
import { clerkRateLimited } from '../src/faults';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

const ADA = 'user_2adaLovelace0Seed0000000001';
const GRACE = 'user_2graceHopper0Seed00000000002';
const PHONE_ONLY = 'user_2phoneOnly00Seed000000000003';
const ANALYTICAL = 'org_2analyticalEngines0Seed000001';

let sandbox: Sandbox;
let clerk: ReturnType<typeof createClerkClient>;

beforeAll(async () => {
  sandbox = await createSandbox();
  clerk = createClerkClient({ secretKey: sandbox.env.CLERK_SECRET_KEY, apiUrl: sandbox.env.CLERK_API_URL });
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

async function rejection(promise: Promise<unknown>): Promise<ClerkAPIResponseError> {
  try {
    await promise;
  } catch (err) {
    return err as ClerkAPIResponseError;
  }
  throw new Error('expected the call to fail');
}

describe('Clerk Backend API stand-in, through @clerk/backend', () => {
  it('returns a user whose primary email is not the first address', async () => {
    const grace = await clerk.users.getUser(GRACE);
    expect(grace.emailAddresses.map((e) => e.emailAddress)).toEqual([
      'grace.hopper@old-navy-lab.example',
      'grace@cobol.example',
    ]);
    expect(grace.primaryEmailAddress?.emailAddress).toBe('grace@cobol.example');
    expect(grace.createdAt).toBeGreaterThan(1e12); // milliseconds, as Clerk
  });

  it('returns a phone-only user with null names and no primary email', async () => {
    const user = await clerk.users.getUser(PHONE_ONLY);
    expect(user).toMatchObject({
      firstName: null,
      lastName: null,
      primaryEmailAddressId: null,
      emailAddresses: [],
    });
    expect(user.primaryPhoneNumber?.phoneNumber).toBe('+15555550123');
  });

  it('answers an unknown user with 404 resource_not_found', async () => {
    const err = await rejection(clerk.users.getUser('user_doesnotexist'));
    expect(err.status).toBe(404);
    expect(err.errors[0]).toMatchObject({
      code: 'resource_not_found',
      longMessage: 'No user was found with id user_doesnotexist',
    });
  });

  it('lists users with filters and a total count (GET /v1/users and /v1/users/count)', async () => {
    const all = await clerk.users.getUserList({ limit: 2 });
    expect(all.totalCount).toBe(4);
    expect(all.data).toHaveLength(2);

    const byEmail = await clerk.users.getUserList({ emailAddress: ['grace@cobol.example'] });
    expect(byEmail).toMatchObject({ totalCount: 1, data: [{ id: GRACE }] });

    const byIds = await clerk.users.getUserList({ userId: [ADA, GRACE], orderBy: '+created_at' });
    expect(byIds.data.map((u) => u.id)).toEqual([ADA, GRACE]);

    const byQuery = await clerk.users.getUserList({ query: 'turing' });
    expect(byQuery.data.map((u) => u.lastName)).toEqual(['Turing']);
  });

  it("pages a user's organization memberships with limit and offset", async () => {
    const first = await clerk.users.getOrganizationMembershipList({ userId: GRACE, limit: 1 });
    const second = await clerk.users.getOrganizationMembershipList({ userId: GRACE, limit: 1, offset: 1 });
    expect(first.totalCount).toBe(2);
    expect(second.totalCount).toBe(2);
    const orgs = [...first.data, ...second.data].map((m) => m.organization.name).sort();
    expect(orgs).toEqual(['Analytical Engines Ltd', 'Bletchley Park']);
    expect(first.data[0]!.publicUserData).toMatchObject({ userId: GRACE, identifier: 'grace@cobol.example' });
  });

  it('lists organizations, by member and with member counts, and fetches one by slug', async () => {
    const list = await clerk.organizations.getOrganizationList({ includeMembersCount: true });
    expect(list.totalCount).toBe(2);
    expect(list.data.find((o) => o.id === ANALYTICAL)?.membersCount).toBe(2);

    const ofAda = await clerk.organizations.getOrganizationList({ userId: [ADA] });
    expect(ofAda.data.map((o) => o.slug)).toEqual(['analytical-engines']);

    const bySlug = await clerk.organizations.getOrganization({ slug: 'analytical-engines' });
    expect(bySlug.id).toBe(ANALYTICAL);

    const members = await clerk.organizations.getOrganizationMembershipList({
      organizationId: ANALYTICAL,
      role: ['org:admin'],
    });
    expect(members.data.map((m) => m.publicUserData?.userId)).toEqual([ADA]);
  });

  it('creates an organization whose creator becomes an admin, keeping private metadata', async () => {
    const org = await clerk.organizations.createOrganization({
      name: 'Difference Engines',
      createdBy: ADA,
      privateMetadata: { salesforceAccountId: '001000000000001AAA' },
    });
    expect(org).toMatchObject({ name: 'Difference Engines', slug: 'difference-engines', createdBy: ADA });
    expect(org.privateMetadata).toEqual({ salesforceAccountId: '001000000000001AAA' });

    const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
    expect(members.data.map((m) => `${m.publicUserData?.userId} ${String(m.role)}`)).toEqual([
      `${ADA} org:admin`,
    ]);
  });

  it('refuses a taken slug, a missing name and an unknown creator as Clerk does', async () => {
    const taken = await rejection(
      clerk.organizations.createOrganization({ name: 'Again', slug: 'analytical-engines' }),
    );
    expect(taken.status).toBe(422);
    expect(taken.errors[0]).toMatchObject({ code: 'form_identifier_exists', meta: { paramName: 'slug' } });

    const noName = await rejection(clerk.organizations.createOrganization({ name: '' }));
    expect(noName.errors[0]?.code).toBe('form_param_missing');

    const noCreator = await rejection(
      clerk.organizations.createOrganization({ name: 'Orphan', createdBy: 'user_nobody' }),
    );
    expect(noCreator.status).toBe(400);
    expect(noCreator.errors[0]?.code).toBe('organization_creator_not_found');
    expect((await clerk.organizations.getOrganizationList()).totalCount).toBe(2);
  });

  it('answers a wrong secret key with 401', async () => {
    const wrong = createClerkClient({ secretKey: 'sk_test_wrong', apiUrl: sandbox.env.CLERK_API_URL });
    const err = await rejection(wrong.users.getUser(ADA));
    expect(err.status).toBe(401);
    expect(err.errors[0]?.code).toBe('clerk_key_invalid');
  });

  it("surfaces a 429 fault's Retry-After as retryAfter", async () => {
    sandbox.faults.add(clerkRateLimited(7, { path: '/v1/users/count', times: 1 }));
    const err = await rejection(clerk.users.getUserList());
    expect(err.status).toBe(429);
    expect(err.retryAfter).toBe(7);
    expect(err.errors[0]?.code).toBe('too_many_requests');
    expect(err.clerkTraceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
