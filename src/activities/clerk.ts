import type { ClerkClient, OrganizationMembership } from '@clerk/backend';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MAX_USER_MEMBERSHIPS } from '../shared/batches';
import { checkClerk, ClerkMembership } from '../shared/clerk';
import { membershipSyncFrom, type MembershipSync } from '../shared/mapping';
import { classified, classifyClerk } from './errors';

/**
 * Clerk's largest page. Lists are read to the end: a user (an agency, a consultant) can be in more than 500
 * organizations. The next offset moves by what the page held, and the last page is the one that reaches
 * `totalCount` or comes back empty, so a server that pages smaller than asked is still read to the end.
 */
const PAGE = 500;

/** Reads every page of an offset-paged Clerk list. */
async function readAll<T>(
  fetchPage: (offset: number) => Promise<{ data: T[]; totalCount: number }>,
  visit: (items: T[]) => boolean | void,
): Promise<void> {
  let offset = 0;
  let page: { data: T[]; totalCount: number };
  do {
    page = await fetchPage(offset);
    if (visit(page.data) === true) return; // found what it looked for
    offset += page.data.length;
  } while (page.data.length > 0 && offset < page.totalCount);
}

const isNotFound = (err: unknown) => (err as { status?: unknown })?.status === 404;

/**
 * A user's memberships, every page, each once (a membership added while the pages are read shifts the offsets, and
 * a row can come twice), oldest first; null once the user is deleted (its user.deleted follows). The sync's
 * look-up and the backfill's share it.
 */
export async function membershipsOfUser(
  clerk: ClerkClient,
  userId: string,
): Promise<OrganizationMembership[] | null> {
  const found = new Map<string, OrganizationMembership>();
  try {
    await readAll(
      (offset) => clerk.users.getOrganizationMembershipList({ userId, limit: PAGE, offset }),
      (data) => {
        for (const m of data) found.set(m.id, m);
      },
    );
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  return [...found.values()].sort((a, b) => a.createdAt - b.createdAt);
}

function toSync(raw: unknown): MembershipSync {
  const checked = checkClerk(ClerkMembership, raw);
  if (!checked.ok) {
    throw ApplicationFailure.create({
      type: 'ClerkRejected',
      message: `Clerk answered an unusable membership: ${checked.problems.join('; ')}`,
      nonRetryable: true,
    });
  }
  return membershipSyncFrom(checked.value);
}

/**
 * user.created: the user's current memberships (a user can join through an invitation before the webhook lands),
 * oldest first, so that the first organization the user joined becomes the Contact's Account; `'skipped'` without
 * CLERK_SECRET_KEY. Part of `onboardContact` (activities/salesforce/events.ts): a failure leaves classified as
 * Clerk's (`ClerkUnavailable`, `ClerkAuthRejected`…), never as Salesforce's.
 */
export async function userMembershipsToSync(
  clerk: ClerkClient | undefined,
  userId: string,
): Promise<MembershipSync[] | 'skipped'> {
  if (!clerk) return 'skipped';
  let found: OrganizationMembership[] | null;
  try {
    found = await membershipsOfUser(clerk, userId);
  } catch (err) {
    throw err instanceof CancelledFailure || err instanceof ApplicationFailure ? err : classifyClerk(err);
  }
  if (found === null) return []; // deleted since: its user.deleted will follow
  if (found.length > MAX_USER_MEMBERSHIPS) {
    throw ApplicationFailure.create({
      type: 'TooManyMemberships',
      message:
        `user ${userId} is in ${found.length} organizations; a user.created syncs at most ` +
        `${MAX_USER_MEMBERSHIPS} (their list travels in the workflow history); the backfill imports any number`,
      nonRetryable: true,
    });
  }
  return found.map((m) => toSync(m.raw));
}

/** Which membership: Clerk's ids of its organization, its user and itself. */
export interface MembershipKey {
  organizationId: string;
  userId: string;
  membershipId: string;
}

/**
 * organizationMembership.created / .updated: whether Clerk still has the membership (`'skipped'` without
 * CLERK_SECRET_KEY). A membership deleted since must not come back when its older events arrive late (a deletion is
 * final). Part of `upsertMembership` (activities/salesforce/events.ts): a failure leaves classified as Clerk's.
 */
export async function membershipInClerk(
  clerk: ClerkClient | undefined,
  key: MembershipKey,
): Promise<boolean | 'skipped'> {
  if (!clerk) return 'skipped';
  try {
    // Filtered to the one user, who has at most one membership in an organization: one page is the whole list.
    const page = await clerk.organizations.getOrganizationMembershipList({
      organizationId: key.organizationId,
      userId: [key.userId],
      limit: PAGE,
    });
    return page.data.some((m) => m.id === key.membershipId);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err instanceof CancelledFailure || err instanceof ApplicationFailure ? err : classifyClerk(err);
  }
}

/** Clerk Backend API look-ups; `'skipped'` when no CLERK_SECRET_KEY is configured. */
export function clerkActivities(clerk: ClerkClient | undefined) {
  return classified(classifyClerk, {
    /**
     * `POST /api/organizations`: the Clerk organization for a Salesforce Account, created once. The Account id goes in
     * the organization's private metadata, so a retry after a lost answer finds the organization instead of making a
     * second one, and the organization's own webhooks land on that Account.
     */
    async createClerkOrganization(input: { accountId: string; name: string; createdBy?: string }): Promise<{
      organizationId: string;
      created: boolean;
    }> {
      if (!clerk) {
        throw ApplicationFailure.create({
          type: 'ClerkNotConfigured',
          message: 'CLERK_SECRET_KEY is not set',
          nonRetryable: true,
        });
      }
      let mine: string | undefined;
      await readAll(
        (offset) => clerk.organizations.getOrganizationList({ query: input.name, limit: PAGE, offset }),
        (data) => {
          mine = data.find(
            (o) =>
              (o.privateMetadata as Record<string, unknown> | null)?.salesforceAccountId === input.accountId,
          )?.id;
          return mine !== undefined;
        },
      );
      if (mine) return { organizationId: mine, created: false };
      const org = await clerk.organizations.createOrganization({
        name: input.name,
        createdBy: input.createdBy,
        privateMetadata: { salesforceAccountId: input.accountId },
      });
      return { organizationId: org.id, created: true };
    },

    /**
     * organizationMembership.created / .updated of runs started before issue 13's fold: whether Clerk still has the
     * membership (`upsertMembership` now looks it up itself). Kept while such runs may be open.
     */
    async membershipExists(input: MembershipKey): Promise<boolean | 'skipped'> {
      return membershipInClerk(clerk, input);
    },
  });
}

/** The Clerk activities' interface, for `proxyActivities`. */
export type ClerkActivities = ReturnType<typeof clerkActivities>;
