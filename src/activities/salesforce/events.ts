import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MEMBERSHIPS_WITH_CONTACT } from '../../shared/batches';
import type { AccountFields, ContactFields, MembershipSync } from '../../shared/mapping';
import { classifySalesforce } from '../errors';
import { CompositePlan, engineFor, firstRecord, soql, type SalesforceSession } from './engine';
import {
  accountMoveOf,
  activeContactQuery,
  addAccountMove,
  addContact,
  addLink,
  addMembership,
  addPrimaryAccount,
  guardedUpsert,
  MOVE_REFS,
  MOVE_WRITES,
  outcomeOf,
  type MembershipRemoval,
  type PartialRemoval,
  type UpsertOutcome,
} from './plans';

// The activities of single events: each is one Composite call of the plans in plans.ts. Every write is idempotent
// (External IDs, guarded updates), so a retry, a redelivery or a replay lands on the same records.

/** What `onboardContact` did. */
export interface ContactSyncResult {
  contact: UpsertOutcome;
  /** True when the welcome email belongs to this delivery (claimed on the Contact now or by an earlier attempt). */
  welcomeEmailClaimed: boolean;
  /** The run recorded with the claim (`Clerk_Welcome_Email_Run__c`): `releaseWelcomeEmail` needs it. */
  welcomeEmailRun?: string;
  memberships: { membershipId: string; outcome: UpsertOutcome | 'skipped' }[];
}

/** The single-event activities over the worker's shared session; `welcomeEmail` is off when no email can be sent. */
export function eventActivities(session: SalesforceSession, options: { welcomeEmail: boolean }) {
  const newPlan = () => new CompositePlan();

  return {
    /**
     * user.created: the Contact (guarded by Clerk's `updated_at`), its first memberships (at most
     * `MEMBERSHIPS_WITH_CONTACT`; the rest go through `syncMemberships`) and the claim of the welcome email — one
     * API call.
     */
    async onboardContact(input: {
      contact: ContactFields;
      version: number;
      memberships?: MembershipSync[];
      /** The svix-id of the user.created delivery: the Contact remembers which delivery owns the welcome email. */
      welcomeEmailClaim?: string;
    }): Promise<ContactSyncResult> {
      const sf = await engineFor(session);
      const userId = input.contact.Clerk_User_Id__c;
      const memberships = input.memberships ?? [];
      if (memberships.length > MEMBERSHIPS_WITH_CONTACT)
        throw new Error(
          `onboardContact takes at most ${MEMBERSHIPS_WITH_CONTACT} memberships; use syncMemberships`,
        );
      const plan = newPlan();
      addContact(plan, input.contact, input.version);
      const claim = options.welcomeEmail ? input.welcomeEmailClaim : undefined;
      let run: string | undefined;
      if (claim) {
        // The durable "never two": the Contact records which delivery owns the email and which run sends it. A
        // retry in that run may claim again (its email goes out under Resend's idempotency key); any other run may
        // not — not even a replay of the same delivery days later, when Resend has forgotten the key.
        const info = activityInfo();
        run = info.workflowExecution?.runId ?? `${info.activityId}@${info.scheduledTimestampMs}`;
        plan.query(
          'welcomeClaimable',
          `SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${soql(userId)} AND Clerk_Status__c = 'Active' ` +
            `AND (Clerk_Welcome_Email_Claim__c = null OR (Clerk_Welcome_Email_Claim__c = ${soql(claim)} ` +
            `AND (Clerk_Welcome_Email_Run__c = null OR Clerk_Welcome_Email_Run__c = ${soql(run)})))`,
        );
        plan.update('welcomeClaim', 'Contact', firstRecord('welcomeClaimable'), {
          Clerk_Welcome_Email_Claim__c: claim,
          Clerk_Welcome_Email_Run__c: run,
        });
      }
      if (memberships.length > 0) {
        plan.query('contactActive', activeContactQuery(userId));
        memberships.forEach((sync, i) => addMembership(plan, i, sync));
        addPrimaryAccount(plan, userId);
      }
      const res = await sf.send(plan);
      const result: ContactSyncResult = {
        contact: outcomeOf(res, 'contact'),
        welcomeEmailClaimed: res.succeeded('welcomeClaim'),
        memberships: [],
      };
      if (result.welcomeEmailClaimed) result.welcomeEmailRun = run;
      memberships.forEach((sync, i) => {
        const active = res.records(`account${i}Active`).length > 0 && res.records('contactActive').length > 0;
        result.memberships.push({
          membershipId: sync.membership.Clerk_Membership_Id__c,
          outcome: active ? outcomeOf(res, `membership${i}`) : 'skipped',
        });
      });
      return result;
    },

    /** user.updated: the Contact's fields, unless Salesforce holds a newer version of the user — one API call. */
    async upsertContact(input: { contact: ContactFields; version: number }): Promise<UpsertOutcome> {
      const sf = await engineFor(session);
      const plan = newPlan();
      addContact(plan, input.contact, input.version);
      return outcomeOf(await sf.send(plan), 'contact');
    },

    /** organization.created / .updated: the Account, guarded by Clerk's `updated_at`; linked to `accountId` when given. */
    async upsertAccount(input: {
      account: AccountFields;
      version: number;
      linkAccountId?: string;
    }): Promise<UpsertOutcome> {
      const sf = await engineFor(session);
      const orgId = input.account.Clerk_Organization_Id__c;
      const plan = newPlan();
      if (input.linkAccountId) addLink(plan, 'link', input.linkAccountId, orgId);
      guardedUpsert(
        plan,
        'account',
        'Account',
        { field: 'Clerk_Organization_Id__c', value: orgId },
        { ...input.account },
        input.version,
        {
          Clerk_Status__c: 'Active',
        },
      );
      return outcomeOf(await sf.send(plan), 'account');
    },

    /**
     * organizationMembership.created / .updated: Contact and Account created from the payload if missing, the
     * membership upserted (guarded), the Contact's AccountId set when it has none. One API call.
     */
    async upsertMembership(input: {
      contact: ContactFields;
      sync: MembershipSync;
    }): Promise<UpsertOutcome | 'skipped'> {
      const sf = await engineFor(session);
      const plan = newPlan();
      // Created without a version: the user's own events (which carry every field) always overwrite it.
      plan.create('contactCreate', 'Contact', { ...input.contact, Clerk_Status__c: 'Active' });
      plan.query('contactActive', activeContactQuery(input.contact.Clerk_User_Id__c));
      addMembership(plan, 0, input.sync);
      addPrimaryAccount(plan, input.contact.Clerk_User_Id__c);
      const res = await sf.send(plan);
      if (res.records('contactActive').length === 0 || res.records('account0Active').length === 0)
        return 'skipped';
      return outcomeOf(res, 'membership0');
    },

    /**
     * The welcome email was refused for good (Resend answered 4xx: nothing was sent): the claim's run is cleared, so
     * that a redelivery of the same delivery may send it. Only the run that claimed it can release it.
     */
    async releaseWelcomeEmail(input: { userId: string; claim: string; run: string }): Promise<boolean> {
      const sf = await engineFor(session);
      const plan = newPlan()
        .query(
          'claimed',
          `SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${soql(input.userId)} ` +
            `AND Clerk_Welcome_Email_Claim__c = ${soql(input.claim)} AND Clerk_Welcome_Email_Run__c = ${soql(input.run)}`,
        )
        .update('release', 'Contact', firstRecord('claimed'), { Clerk_Welcome_Email_Run__c: null });
      return (await sf.send(plan)).succeeded('release');
    },

    /** `POST /api/organizations`: the Account to create a Clerk organization for; null when there is none. */
    async getAccount(input: {
      accountId: string;
    }): Promise<{ name: string; organizationId: string | null } | null> {
      const sf = await engineFor(session);
      const [account] = await sf.query<{ Name: string; Clerk_Organization_Id__c: string | null }>(
        `SELECT Name, Clerk_Organization_Id__c FROM Account WHERE Id = ${soql(input.accountId)}`,
      );
      return account
        ? { name: account.Name, organizationId: account.Clerk_Organization_Id__c ?? null }
        : null;
    },

    /** `POST /api/organizations`: writes the new organization's id to its Account (unless an event already did). */
    async linkAccount(input: { accountId: string; organizationId: string }): Promise<boolean> {
      const sf = await engineFor(session);
      const plan = newPlan();
      addLink(plan, 'link', input.accountId, input.organizationId);
      return (await sf.send(plan)).succeeded('link');
    },

    /**
     * organizationMembership.deleted in one API call: the Contact moved off the organization's Account (see
     * `addAccountMove`) and the membership deleted, as independent subrequests. A transient failure is retried
     * whole (each part is idempotent). When Salesforce rejects one part for good (a validation rule, a trigger),
     * the failure is non-retryable and carries what the other part applied (`PartialRemoval`), for the saga.
     */
    async deleteMembershipAndMoveContact(input: {
      userId: string;
      organizationId: string;
      membershipId: string;
    }): Promise<MembershipRemoval> {
      const sf = await engineFor(session);
      const plan = newPlan();
      addAccountMove(plan, input);
      const membership = `SELECT Id FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c = ${soql(input.membershipId)}`;
      plan.query('membership', membership).delete('remove', 'Clerk_Membership__c', firstRecord('membership'));
      // A retry after an attempt that deleted the membership and then failed on the move: the deletion was ours.
      if (activityInfo().attempt > 1) plan.queryAll('removedBefore', `${membership} AND IsDeleted = true`);
      const res = await sf.send(plan, { check: false });
      const moveFailed = res.failure(MOVE_REFS);
      const removeFailed = res.failure(['membership', 'remove']);
      // Any of the three conditional writes that went through changed AccountId (the undo puts it back).
      const moveApplied = MOVE_WRITES.some((ref) => res.succeeded(ref));
      const applied: MembershipRemoval = {
        removed: res.succeeded('remove') || res.records('removedBefore').length > 0,
        moved: !moveFailed || moveApplied ? accountMoveOf(res) : null,
      };
      const failed = moveFailed ?? removeFailed;
      if (!failed) return applied;
      const rejected = classifySalesforce(failed);
      if (!rejected.nonRetryable) throw rejected;
      const details: PartialRemoval = {
        step: moveFailed ? 'move the Contact to another Account' : 'remove membership',
        applied,
      };
      throw ApplicationFailure.create({
        type: rejected.type ?? 'SalesforceRejected',
        message: rejected.message,
        nonRetryable: true,
        details: [details],
      });
    },

    /** Saga undo of a membership removal: the membership as it was (same External ID, Contact, Account and role). */
    async restoreMembership(input: { sync: MembershipSync }): Promise<void> {
      const sf = await engineFor(session);
      const plan = newPlan();
      plan.query('contactActive', activeContactQuery(input.sync.membership.userId));
      addMembership(plan, 0, input.sync);
      await sf.send(plan);
    },

    /** Saga undo of a Contact's move off an Account: puts its AccountId back. */
    async setContactAccount(input: { contactId: string; accountId: string | null }): Promise<void> {
      const sf = await engineFor(session);
      await sf.send(newPlan().update('set', 'Contact', input.contactId, { AccountId: input.accountId }), {
        allOrNone: true,
      });
    },
  };
}
