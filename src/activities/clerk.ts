import type { ClerkClient } from '@clerk/backend';
import { ApplicationFailure } from '@temporalio/common';
import { checkClerk, ClerkMembership } from '../shared/clerk';
import { membershipSyncFrom, type MembershipSync } from '../shared/mapping';
import { classified, classifyClerk } from './errors';

/** Clerk allows up to 500 per page; memberships per user are few. */
const PAGE = 100;

const isNotFound = (err: unknown) => (err as { status?: unknown })?.status === 404;

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

/** Clerk Backend API look-ups; `'skipped'` when no CLERK_SECRET_KEY is configured. */
export function clerkActivities(clerk: ClerkClient | undefined) {
  return classified(classifyClerk, {
    /** user.created: the user's current memberships (a user can join through an invitation before the webhook lands). */
    async listUserMemberships(input: { userId: string }): Promise<MembershipSync[] | 'skipped'> {
      if (!clerk) return 'skipped';
      const found: { sync: MembershipSync; joinedAt: number }[] = [];
      for (let offset = 0; ; offset += PAGE) {
        let page;
        try {
          page = await clerk.users.getOrganizationMembershipList({
            userId: input.userId,
            limit: PAGE,
            offset,
          });
        } catch (err) {
          if (isNotFound(err)) return []; // deleted since: its user.deleted will follow
          throw err;
        }
        found.push(...page.data.map((m) => ({ sync: toSync(m.raw), joinedAt: m.createdAt })));
        if (page.data.length < PAGE || found.length >= page.totalCount) {
          // Oldest first: the first organization the user joined becomes the Contact's Account.
          return found.sort((a, b) => a.joinedAt - b.joinedAt).map((f) => f.sync);
        }
      }
    },

    /**
     * `POST /api/organizations`: the Clerk organization for a Salesforce Account, created once. The Account id goes in
     * the organization's private metadata, so a retry after a lost answer finds the organization instead of making a
     * second one, and the organization's own webhooks land on that Account.
     */
    async createOrganizationForAccount(input: {
      accountId: string;
      name: string;
      createdBy?: string;
    }): Promise<{
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
      for (let offset = 0; ; offset += PAGE) {
        const page = await clerk.organizations.getOrganizationList({
          query: input.name,
          limit: PAGE,
          offset,
        });
        const mine = page.data.find(
          (o) =>
            (o.privateMetadata as Record<string, unknown> | null)?.salesforceAccountId === input.accountId,
        );
        if (mine) return { organizationId: mine.id, created: false };
        if (page.data.length < PAGE) break;
      }
      const org = await clerk.organizations.createOrganization({
        name: input.name,
        createdBy: input.createdBy,
        privateMetadata: { salesforceAccountId: input.accountId },
      });
      return { organizationId: org.id, created: true };
    },

    /**
     * organizationMembership.created / .updated: whether Clerk still has the membership. A membership deleted since
     * must not come back when its older events arrive late (a deletion is final).
     */
    async membershipExists(input: {
      organizationId: string;
      userId: string;
      membershipId: string;
    }): Promise<boolean | 'skipped'> {
      if (!clerk) return 'skipped';
      try {
        const page = await clerk.organizations.getOrganizationMembershipList({
          organizationId: input.organizationId,
          userId: [input.userId],
          limit: PAGE,
        });
        return page.data.some((m) => m.id === input.membershipId);
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
  });
}

/** The Clerk activities' interface, for `proxyActivities`. */
export type ClerkActivities = ReturnType<typeof clerkActivities>;
