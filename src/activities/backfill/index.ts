import type { ClerkClient } from '@clerk/backend';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { emptyCounts, type BackfillCounts } from '../../shared/backfill-counts';
import { ClerkMembership, ClerkOrganization, ClerkUser, type ClerkSchema } from '../../shared/clerk';
import { contactFromUser, linkedAccountId } from '../../shared/mapping';
import { classified, classifySalesforce } from '../errors';
import type { SalesforceSession } from '../salesforce';
import { engineFor, type SalesforceEngine } from '../salesforce/engine';
import {
  fromClerk,
  lastPage,
  openPage,
  organizationsOf,
  parse,
  requireClerk,
  type ListedPage,
} from './clerk';
import { planMemberships } from './memberships';
import { accountWrites, byField, versionedWrite, type Write } from './records';
import { accountQueries, apply, read } from './salesforce';
import type { BackfillCursor, BackfillPageRequest, BackfillPageResult } from './types';

// `clerk-sync backfill` (SPEC.md "Operators"): one activity per page of Clerk records. Each page costs one
// Salesforce read (the stored versions of every record on the page) and, when anything changed, writes through the
// Salesforce engine: records absent at the read are created as sObject Collections, never upserted — if a webhook
// created one in between (a `user.deleted` tombstone, say), the create meets DUPLICATE_VALUE and leaves it alone.
// Records older than Clerk are updated under the webhook path's guard, in the same request: a query that finds the
// record only while what it holds is still older (and not Deleted), and an update of what it found. A webhook's
// newer write that lands between the read and the write therefore survives. Clerk_Status__c is never touched, so a
// deletion is never undone.

export * from './types';

/** A resumed attempt's checkpoint: the page's result once written, and the look-ups done so far. */
interface Checkpoint {
  cursor: BackfillCursor;
  lookups?: Record<string, string[]>;
  result?: BackfillPageResult;
}

const sameCursor = (a: BackfillCursor, b: BackfillCursor) =>
  a.phase === b.phase && a.offset === b.offset && a.organizationIndex === b.organizationIndex;

/** The checkpoint an earlier attempt of this page left, if any. */
function checkpointFor(cursor: BackfillCursor): Checkpoint {
  const details = activityInfo().heartbeatDetails as Checkpoint | undefined;
  return details && sameCursor(details.cursor, cursor) ? details : { cursor };
}

/** Backfill page activities over the worker's Salesforce session and Clerk client. */
export function backfillActivities(session: SalesforceSession, clerkClient: ClerkClient | undefined) {
  /**
   * One page of organizations or users: the result an earlier attempt wrote, or Clerk's list (parsed), what to
   * write for it against Salesforce (`plan`), the writes; the result heartbeats, so a retry does not redo it.
   */
  async function importPage<T>(
    input: BackfillPageRequest,
    kind: 'organizations' | 'users',
    schema: ClerkSchema<T>,
    list: (clerk: ClerkClient, offset: number) => Promise<ListedPage>,
    plan: (sf: SalesforceEngine, records: T[], counts: BackfillCounts) => Promise<Write[]>,
  ): Promise<BackfillPageResult> {
    const clerk = requireClerk(clerkClient);
    const checkpoint = checkpointFor(input.cursor);
    if (checkpoint.result) return checkpoint.result;
    heartbeat(checkpoint);
    const page = await fromClerk(() => list(clerk, input.cursor.offset));
    const { counts, result, records } = openPage(kind, schema, page, input);
    if (records.length > 0) {
      const sf = await engineFor(session, () => checkpoint);
      const writes = await plan(sf, records, counts);
      await apply(sf, { writes, accountIds: [], dryRun: input.dryRun }, result);
    }
    heartbeat({ cursor: input.cursor, result });
    return result;
  }

  return classified(classifySalesforce, {
    /** One page of Clerk organizations → Accounts (created, or updated where Salesforce is older). */
    backfillOrganizationsPage: (input: BackfillPageRequest) =>
      importPage(
        input,
        'organizations',
        ClerkOrganization,
        (clerk, offset) =>
          clerk.organizations.getOrganizationList({
            limit: input.pageSize,
            offset,
            orderBy: '+created_at', // new organizations land after the cursor, never shift it
          }),
        async (sf, orgs, counts) => {
          const links = orgs.flatMap((o) => linkedAccountId(o.private_metadata) ?? []);
          const stored = await read(
            sf,
            accountQueries(
              orgs.map((o) => o.id),
              links,
            ),
          );
          const accounts = [...(stored.accounts ?? []), ...(stored.linked ?? [])];
          return accountWrites(
            orgs,
            byField(accounts, 'Clerk_Organization_Id__c'),
            byField(accounts, 'Id'),
            counts,
          );
        },
      ),

    /** One page of Clerk users → Contacts (created, or updated where Salesforce is older); no welcome email. */
    backfillUsersPage: (input: BackfillPageRequest) =>
      importPage(
        input,
        'users',
        ClerkUser,
        (clerk, offset) => clerk.users.getUserList({ limit: input.pageSize, offset, orderBy: '+created_at' }),
        async (sf, users, counts) => {
          const { contacts = [] } = await read(sf, {
            contacts: {
              values: users.map((u) => u.id),
              build: (list) =>
                `SELECT Id, Clerk_User_Id__c, Clerk_Status__c, Clerk_Updated_At__c FROM Contact WHERE Clerk_User_Id__c IN ${list}`,
            },
          });
          const stored = byField(contacts, 'Clerk_User_Id__c');
          return users.flatMap((user) => {
            const fields = contactFromUser(user);
            const { Clerk_User_Id__c: _id, ...changes } = fields;
            const target = { kind: 'users', clerkId: user.id, type: 'Contact' } as const;
            const write = versionedWrite(
              target,
              stored.get(user.id),
              user.updated_at,
              changes,
              counts,
              () => ({
                ...target,
                op: 'create',
                record: { ...fields, Clerk_Status__c: 'Active', Clerk_Updated_At__c: user.updated_at },
              }),
            );
            return write ? [write] : [];
          });
        },
      ),

    /**
     * Up to `pageSize` memberships, walking Clerk's organizations oldest first (several small ones share a page) →
     * Clerk_Membership__c, with the Contact or Account created from the membership if it is still missing, and the
     * Contact's empty AccountId set to the Account of the user's oldest membership.
     */
    async backfillMembershipsPage(input: BackfillPageRequest): Promise<BackfillPageResult> {
      const clerk = requireClerk(clerkClient);
      const checkpoint = checkpointFor(input.cursor);
      if (checkpoint.result) return checkpoint.result;
      heartbeat(checkpoint);
      const { organizationIndex, offset } = input.cursor;
      const orgPage = await fromClerk(() =>
        clerk.organizations.getOrganizationList({
          limit: input.pageSize,
          offset: organizationIndex,
          orderBy: '+created_at',
          includeMembersCount: true,
        }),
      );
      const raw: unknown[] = [];
      const lastOrgs = lastPage(organizationIndex, orgPage.data.length, orgPage.totalCount, input.pageSize);
      let next: BackfillCursor | null = lastOrgs
        ? null
        : { phase: 'memberships', organizationIndex: organizationIndex + orgPage.data.length, offset: 0 };
      for (const [i, org] of orgPage.data.entries()) {
        let from = i === 0 ? offset : 0;
        if (org.membersCount === 0) continue;
        const room = input.pageSize - raw.length;
        const page = await fromClerk(() =>
          clerk.organizations.getOrganizationMembershipList({
            organizationId: org.id,
            limit: room,
            offset: from,
            orderBy: '+created_at',
          }),
        );
        heartbeat(checkpoint);
        raw.push(...page.data.map((m) => m.raw));
        from += page.data.length;
        const orgDone = page.data.length < room || from >= page.totalCount;
        if (!orgDone) {
          next = { phase: 'memberships', organizationIndex: organizationIndex + i, offset: from };
          break;
        }
        if (raw.length >= input.pageSize) {
          const after = organizationIndex + i + 1;
          next =
            i + 1 < orgPage.data.length || !lastOrgs
              ? { phase: 'memberships', organizationIndex: after, offset: 0 }
              : null;
          break;
        }
      }
      const counts = emptyCounts();
      const result: BackfillPageResult = {
        counts: { memberships: counts },
        accountIdsSet: 0,
        next,
        total: orgPage.totalCount,
        failures: [],
      };
      const memberships: ClerkMembership[] = [];
      for (const m of raw) {
        counts.seen += 1;
        const parsed = parse(ClerkMembership, m);
        if (parsed) memberships.push(parsed);
        else {
          counts.failed += 1;
          const id = (m as { id?: unknown })?.id;
          result.failures.push({
            kind: 'memberships',
            id: typeof id === 'string' ? id : '?',
            code: 'INVALID_CLERK_DATA',
          });
        }
      }
      if (memberships.length > 0) {
        const sf = await engineFor(session, () => checkpoint);
        const lookup = async (userId: string) => {
          checkpoint.lookups ??= {};
          const orgs = (checkpoint.lookups[userId] ??= await organizationsOf(clerk, userId));
          heartbeat(checkpoint); // a retry after a timeout resumes the look-ups where this attempt was
          return orgs;
        };
        const plan = await planMemberships(sf, memberships, lookup, result, input.dryRun);
        await apply(sf, { ...plan, dryRun: input.dryRun }, result);
      }
      heartbeat({ cursor: input.cursor, result });
      return result;
    },
  });
}

/** The backfill activities' interface, for `proxyActivities`. */
export type BackfillActivities = ReturnType<typeof backfillActivities>;
