import { MEMBERSHIP_BATCH } from '../../shared/batches';
import type { MembershipSync } from '../../shared/mapping';
import { classifySalesforce } from '../errors';
import { addLink } from './plans';
import { CompositePlan, engineFor, type SalesforceSession, firstRecord, saveCode, soql } from './engine';
import { incomplete, inCollections, recordFailure, savesOf, type Rejected } from './bulk';
// user.created of a user in many organizations: after the first memberships (written with the Contact), the rest
// in batches of `MEMBERSHIP_BATCH`, two calls a batch whatever its size.

/** The batch activity over the worker's Salesforce session. */
export function membershipBatchActivities(session: SalesforceSession) {
  return {
    /**
     * user.created with more memberships than the Contact's own call takes: up to `MEMBERSHIP_BATCH` memberships of
     * one user in two calls whatever their number — one read (the Contact, the Accounts, the memberships Salesforce
     * already has), one write (missing Accounts and memberships as sObject Collections; a stored membership older
     * than Clerk's updated under the same guard as a single event: only if what is stored is older).
     */
    async syncMemberships(input: {
      userId: string;
      memberships: MembershipSync[];
    }): Promise<MembershipBatchResult> {
      const sf = await engineFor(session);
      const syncs = input.memberships;
      if (syncs.length > MEMBERSHIP_BATCH)
        throw new Error(`syncMemberships takes at most ${MEMBERSHIP_BATCH} memberships, not ${syncs.length}`);
      const result: MembershipBatchResult = { created: 0, updated: 0, unchanged: 0, skipped: 0, joined: [] };
      const read = new CompositePlan()
        .query(
          'contact',
          `SELECT Id, AccountId, Clerk_Status__c FROM Contact WHERE Clerk_User_Id__c = ${soql(input.userId)}`,
        )
        .queryIn(
          'accounts',
          syncs.map((s) => s.membership.organizationId),
          (list) =>
            `SELECT Id, Clerk_Organization_Id__c, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c IN ${list}`,
        )
        .queryIn(
          'memberships',
          syncs.map((s) => s.membership.Clerk_Membership_Id__c),
          (list) =>
            `SELECT Id, Clerk_Membership_Id__c, Clerk_Updated_At__c FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c IN ${list}`,
        );
      const stored = await sf.send(read);
      const [contact] = stored.records<{
        Id: string;
        AccountId: string | null;
        Clerk_Status__c: string | null;
      }>('contact');
      if (!contact || contact.Clerk_Status__c === 'Deleted') return { ...result, skipped: syncs.length };
      const accounts = new Map(
        stored
          .records<{ Clerk_Organization_Id__c: string; Clerk_Status__c: string | null }>('accounts')
          .map((a) => [a.Clerk_Organization_Id__c, a]),
      );
      const existing = new Map(
        stored
          .records<{ Id: string; Clerk_Membership_Id__c: string; Clerk_Updated_At__c: number | null }>(
            'memberships',
          )
          .map((m) => [m.Clerk_Membership_Id__c, m]),
      );

      const write = new CompositePlan();
      // Accounts: organizations created for an existing Account are linked to it; the others created if absent.
      const missing = syncs.filter((s) => !accounts.has(s.membership.organizationId));
      const newAccounts = [...new Map(missing.map((s) => [s.membership.organizationId, s])).values()];
      newAccounts.forEach((s, i) => {
        if (s.linkAccountId) addLink(write, `link${i}`, s.linkAccountId, s.membership.organizationId);
      });
      inCollections(newAccounts, (slice, n) =>
        write.createMany(
          `accounts${n}`,
          'Account',
          slice.map((s) => ({
            ...s.account,
            Clerk_Status__c: 'Active',
            Clerk_Updated_At__c: s.accountVersion,
          })),
        ),
      );
      const live = syncs.filter(
        (s) => accounts.get(s.membership.organizationId)?.Clerk_Status__c !== 'Deleted',
      );
      result.skipped += syncs.length - live.length;
      const creates = live.filter((s) => !existing.has(s.membership.Clerk_Membership_Id__c));
      inCollections(creates, (slice, n) =>
        write.createMany(
          `memberships${n}`,
          'Clerk_Membership__c',
          slice.map((s) => ({
            Clerk_Membership_Id__c: s.membership.Clerk_Membership_Id__c,
            Role__c: s.membership.Role__c,
            Clerk_Updated_At__c: s.version,
            Contact__c: contact.Id,
            Account__r: { Clerk_Organization_Id__c: s.membership.organizationId },
          })),
        ),
      );
      const updates = live.filter((s) => {
        const current = existing.get(s.membership.Clerk_Membership_Id__c);
        if (!current) return false;
        if (current.Clerk_Updated_At__c !== null && Number(current.Clerk_Updated_At__c) >= s.version) {
          result.unchanged += 1;
          return false;
        }
        return true;
      });
      // The Contact's AccountId, when it has none: the oldest membership's live Account (this batch is oldest first).
      const primary = contact.AccountId ? undefined : live[0];
      if (primary) {
        write
          .query(
            'primaryAccount',
            `SELECT Id FROM Account WHERE Clerk_Organization_Id__c = ${soql(primary.membership.organizationId)} AND Clerk_Status__c != 'Deleted'`,
          )
          .query(
            'contactWithoutAccount',
            `SELECT Id FROM Contact WHERE Id = ${soql(contact.Id)} AND AccountId = null`,
          )
          .update('contactAccount', 'Contact', firstRecord('contactWithoutAccount'), {
            AccountId: firstRecord('primaryAccount'),
          });
      }
      const res = await sf.send(write, { check: false });
      const rejected: Rejected[] = [];
      savesOf(res, 'accounts', newAccounts.length).forEach((r, i) => {
        // Created in between by another event: it is there, which is what the memberships need.
        if (!r?.success && saveCode(r) !== 'DUPLICATE_VALUE')
          recordFailure(rejected, newAccounts[i]!.membership.organizationId, r);
      });
      const raced: MembershipSync[] = [];
      savesOf(res, 'memberships', creates.length).forEach((r, i) => {
        if (r?.success) {
          result.created += 1;
          result.joined.push(creates[i]!.membership.Clerk_Membership_Id__c);
        } else if (saveCode(r) === 'DUPLICATE_VALUE') raced.push(creates[i]!);
        else recordFailure(rejected, creates[i]!.membership.Clerk_Membership_Id__c, r);
      });
      const primaryFailure = res.failure(['primaryAccount', 'contactWithoutAccount', 'contactAccount']);
      if (primaryFailure) throw primaryFailure;
      // Stored already (or created by a concurrent event since the read): updated only where what is stored is older.
      const guarded = [...updates, ...raced];
      if (guarded.length > 0) {
        const plan = new CompositePlan();
        guarded.forEach((s, i) => guardedMembershipUpdate(plan, `m${i}`, s));
        const answer = await sf.send(plan, { check: false });
        guarded.forEach((s, i) => {
          const failure = answer.failure([`m${i}Older`, `m${i}Update`]);
          if (failure) {
            const classifiedFailure = classifySalesforce(failure);
            if (!classifiedFailure.nonRetryable) throw classifiedFailure;
            rejected.push({ id: s.membership.Clerk_Membership_Id__c, code: failure.errorCode });
          } else if (answer.succeeded(`m${i}Update`)) result.updated += 1;
          else result.unchanged += 1;
        });
      }
      if (rejected.length > 0) throw incomplete(`memberships of user ${input.userId}`, rejected);
      return result;
    },
  };
}

/** What one `syncMemberships` batch did. */
export interface MembershipBatchResult {
  created: number;
  updated: number;
  unchanged: number;
  /** The Contact or the Account is deleted (a deletion is final). */
  skipped: number;
  /** The memberships this batch created (for the notice: each was a "joined"). */
  joined: string[];
}

/** The membership's role and version, only where what Salesforce holds is older (two subrequests). */
function guardedMembershipUpdate(plan: CompositePlan, ref: string, s: MembershipSync): void {
  plan
    .query(
      `${ref}Older`,
      `SELECT Id FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c = ${soql(s.membership.Clerk_Membership_Id__c)} ` +
        `AND (Clerk_Updated_At__c = null OR Clerk_Updated_At__c < ${s.version})`,
    )
    .update(`${ref}Update`, 'Clerk_Membership__c', firstRecord(`${ref}Older`), {
      Role__c: s.membership.Role__c,
      Clerk_Updated_At__c: s.version,
    });
}
