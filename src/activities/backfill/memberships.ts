import { emptyCounts } from '../../shared/backfill-counts';
import type { ClerkMembership } from '../../shared/clerk';
import { contactFromMembership, linkedAccountId, membershipFrom } from '../../shared/mapping';
import { type SalesforceEngine } from '../salesforce/engine';
import { pool } from './clerk';
import {
  accountWrites,
  byField,
  isDeleted,
  versionedWrite,
  type AccountIdWrite,
  type Write,
} from './records';
import { accountQueries, read } from './salesforce';
import type { BackfillKind, BackfillPageResult } from './types';

/** Clerk look-ups of a user's memberships running at once (only for Contacts without an Account). */
const LOOKUP_CONCURRENCY = 5;

/**
 * Decides a page of memberships against what Salesforce holds (one read): each membership created, updated or left;
 * a missing Contact or Account created from the membership (as the `organizationMembership.created` webhook does);
 * and the empty AccountId of each Contact set to the Account of the user's oldest membership, which may belong to
 * an organization another page lists, so it is looked up in Clerk (only for Contacts without an Account).
 */
export async function planMemberships(
  sf: SalesforceEngine,
  memberships: ClerkMembership[],
  organizationsOfUser: (userId: string) => Promise<string[]>,
  result: BackfillPageResult,
  dryRun: boolean,
): Promise<{ writes: Write[]; accountIds: AccountIdWrite[] }> {
  const counts = (kind: BackfillKind) => (result.counts[kind] ??= emptyCounts());
  const userIds = new Set(memberships.map((m) => m.public_user_data.user_id));
  const orgs = new Map(memberships.map((m) => [m.organization.id, m.organization]));
  const links = [...orgs.values()].flatMap((o) => linkedAccountId(o.private_metadata) ?? []);
  const stored = await read(sf, {
    memberships: {
      values: memberships.map((m) => m.id),
      build: (list) =>
        `SELECT Id, Clerk_Membership_Id__c, Clerk_Updated_At__c FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c IN ${list}`,
    },
    contacts: {
      values: userIds,
      build: (list) =>
        `SELECT Id, Clerk_User_Id__c, Clerk_Status__c, AccountId FROM Contact WHERE Clerk_User_Id__c IN ${list}`,
    },
    ...accountQueries(orgs.keys(), links),
  });
  stored.accounts = [...(stored.accounts ?? []), ...(stored.linked ?? [])];
  const contacts = byField(stored.contacts ?? [], 'Clerk_User_Id__c');
  const accounts = byField(stored.accounts ?? [], 'Clerk_Organization_Id__c');
  const existing = byField(stored.memberships ?? [], 'Clerk_Membership_Id__c');

  // Organizations and users that Clerk made after their own phase went past: their Account or Contact first.
  const missingOrgs = [...orgs.values()].filter((o) => !accounts.has(o.id));
  const orgCounts = counts('organizations');
  if (!dryRun) orgCounts.seen += missingOrgs.length;
  const writes = accountWrites(missingOrgs, accounts, byField(stored.accounts ?? [], 'Id'), orgCounts);
  const newAccounts = new Set(missingOrgs.map((o) => o.id));
  for (const w of writes) w.countedBefore = dryRun;
  const newContacts = new Map<string, Write>();
  const membershipCounts = counts('memberships');
  for (const m of memberships) {
    const userId = m.public_user_data.user_id;
    const contact = contacts.get(userId);
    if (isDeleted(contact) || isDeleted(accounts.get(m.organization.id))) {
      membershipCounts.skippedDeleted += 1;
      continue;
    }
    if (!contact && !newContacts.has(userId)) {
      // Without a version, like the webhook path: the user's own data (next run's users phase) overwrites it.
      const create: Write = {
        kind: 'users',
        clerkId: userId,
        op: 'create',
        type: 'Contact',
        record: { ...contactFromMembership(m), Clerk_Status__c: 'Active' },
        countedBefore: dryRun,
      };
      newContacts.set(userId, create);
      if (!dryRun) counts('users').seen += 1;
      writes.push(create);
    }
    const { Role__c } = membershipFrom(m);
    const target = { kind: 'memberships', clerkId: m.id, type: 'Clerk_Membership__c' } as const;
    const write = versionedWrite(
      target,
      existing.get(m.id),
      m.updated_at,
      { Role__c },
      membershipCounts,
      () => ({
        ...target,
        op: 'create',
        record: {
          Clerk_Membership_Id__c: m.id,
          Role__c,
          Clerk_Updated_At__c: m.updated_at,
          // Resolved by External ID inside the same call, after the parents created above.
          Contact__r: { Clerk_User_Id__c: userId },
          Account__r: { Clerk_Organization_Id__c: m.organization.id },
        },
      }),
    );
    if (write) writes.push(write);
  }

  // Contacts without an Account: the Account of the user's oldest membership (SPEC: "when it has none").
  const withoutAccount = [...userIds].filter((userId) => {
    const contact = contacts.get(userId);
    return contact ? !isDeleted(contact) && !contact.AccountId : newContacts.has(userId);
  });
  const oldestFirst = new Map<string, string[]>();
  await pool(withoutAccount, LOOKUP_CONCURRENCY, async (userId) => {
    oldestFirst.set(userId, await organizationsOfUser(userId));
  });
  const unknown = new Set(
    [...oldestFirst.values()].flat().filter((orgId) => !accounts.has(orgId) && !newAccounts.has(orgId)),
  );
  if (unknown.size > 0) {
    const { accounts: more = [] } = await read(sf, { accounts: accountQueries(unknown, []).accounts });
    for (const [orgId, account] of byField(more, 'Clerk_Organization_Id__c')) accounts.set(orgId, account);
  }
  const accountIds: AccountIdWrite[] = [];
  for (const [userId, orgIds] of oldestFirst) {
    let chosen: string | undefined;
    for (const orgId of orgIds) {
      const account = accounts.get(orgId);
      if (isDeleted(account)) continue;
      // Not in Salesforce yet: a later page creates it and sets the AccountId then, oldest still first.
      if (account || newAccounts.has(orgId)) chosen = orgId;
      break;
    }
    if (!chosen) continue;
    const account = { Clerk_Organization_Id__c: chosen };
    const create = newContacts.get(userId);
    if (create) {
      create.record.Account = account;
      create.setsAccountId = true;
    } else {
      accountIds.push({ userId, contactId: contacts.get(userId)!.Id, organizationId: chosen });
    }
  }
  return { writes, accountIds };
}
