import type { ClerkClient } from '@clerk/backend';
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MEMBERSHIPS_WITH_CONTACT } from '../../shared/batches';
import type { AccountFields, ContactFields, MembershipSync } from '../../shared/mapping';
import { membershipNotice, signUpNotice } from '../../shared/notices';
import { membershipInClerk, userMembershipsToSync } from '../clerk';
import { classifySalesforce } from '../errors';
import type { NoticeCourier } from '../slack';
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
  /**
   * Every membership Clerk has for the user, oldest first. The first `MEMBERSHIPS_WITH_CONTACT` went in with the
   * Contact; the workflow writes the rest in batches (`syncMemberships`).
   */
  found: MembershipSync[];
  /**
   * The sign-up's Slack notice: handed to the notifier right after the write; or, when memberships are left for the
   * batches, for the workflow to hand over once they are written (a notice never claims what is not written yet);
   * `off` without SLACK_WEBHOOK_URL.
   */
  notice: 'handed over' | 'after the memberships' | 'off';
  /** True when the welcome email belongs to this delivery (claimed on the Contact now or by an earlier attempt). */
  welcomeEmailClaimed: boolean;
  /** The run recorded with the claim (`Clerk_Welcome_Email_Run__c`): `releaseWelcomeEmail` needs it. */
  welcomeEmailRun?: string;
  memberships: { membershipId: string; outcome: UpsertOutcome | 'skipped' }[];
}

/** What the single-event activities use beside Salesforce. */
export interface EventOptions {
  /** Off when no email can be sent: switching email on later still welcomes. */
  welcomeEmail: boolean;
  /** The sign-up's and the membership events' Clerk look-ups (absent without CLERK_SECRET_KEY: no look-up). */
  clerk?: ClerkClient;
  /** The writes hand their Slack notices to the notifier through it; absent without SLACK_WEBHOOK_URL. */
  notices?: NoticeCourier;
}

/** The single-event activities over the worker's shared session. */
export function eventActivities(session: SalesforceSession, options: EventOptions) {
  const newPlan = () => new CompositePlan();
  /** Hands a notice made true by this activity's write to the notifier; its id is the delivery's (the svix-id). */
  const notice = async (courier: NoticeCourier, text: string): Promise<void> => {
    const { taskQueue, workflowExecution, activityId } = activityInfo();
    await courier.handOver(taskQueue, {
      id: workflowExecution?.workflowId ?? activityId,
      text,
      at: Date.now(),
    });
  };

  return {
    /**
     * user.created, issue 13's one step of a sign-up: the memberships Clerk already has for the user (one look-up),
     * then in one Salesforce call the Contact (guarded by Clerk's `updated_at`), its first memberships (at most
     * `MEMBERSHIPS_WITH_CONTACT`; the rest go through `syncMemberships`) and the claim of the welcome email; then
     * the Slack notice, handed to the notifier as soon as the write is done, unless memberships remain to write.
     */
    async onboardContact(input: {
      contact: ContactFields;
      version: number;
      /** The svix-id of the user.created delivery: the Contact remembers which delivery owns the welcome email. */
      welcomeEmailClaim?: string;
      /** The name the notice gives (never the email). */
      who: string;
    }): Promise<ContactSyncResult> {
      const userId = input.contact.Clerk_User_Id__c;
      const listed = await userMembershipsToSync(options.clerk, userId);
      const found = listed === 'skipped' ? [] : listed;
      const memberships = found.slice(0, MEMBERSHIPS_WITH_CONTACT);
      const sf = await engineFor(session);
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
        found,
        notice: 'off',
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
      const { notices } = options;
      if (!notices) return result;
      if (found.length > memberships.length) return { ...result, notice: 'after the memberships' };
      // Memberships this call created: their "joined" is this delivery's to tell (a later membership event finds
      // them and says nothing). A retry after a lost answer finds them unchanged and tells less, never more.
      const joined = memberships.filter((_, i) => result.memberships[i]!.outcome === 'created');
      await notice(notices, signUpNotice(input.who, userId, joined));
      return { ...result, notice: 'handed over' };
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
     * organizationMembership.created / .updated: whether Clerk still has the membership (one look-up: a membership
     * deleted since is never brought back by its late events), then in one API call Contact and Account created
     * from the payload if missing, the membership upserted (guarded), the Contact's AccountId set when it has none.
     */
    async upsertMembership(input: {
      contact: ContactFields;
      sync: MembershipSync;
      /** What the Slack notice names (as Clerk has them), handed over once the membership is created or changed. */
      notice: { who: string; organization: string; role: string };
      /** Absent in runs started before issue 13's fold: they looked it up in `membershipExists` first. */
      lookUpInClerk?: true;
    }): Promise<UpsertOutcome | 'skipped' | 'not in Clerk'> {
      const key = {
        organizationId: input.sync.account.Clerk_Organization_Id__c,
        userId: input.contact.Clerk_User_Id__c,
        membershipId: input.sync.membership.Clerk_Membership_Id__c,
      };
      if (input.lookUpInClerk && (await membershipInClerk(options.clerk, key)) === false)
        return 'not in Clerk';
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
      const outcome = outcomeOf(res, 'membership0');
      if (options.notices && outcome !== 'unchanged')
        await notice(options.notices, membershipNotice(outcome, input.notice));
      return outcome;
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
      /** What the Slack notice names (as Clerk has them), handed over once the membership is removed. */
      notice: { who: string; organization: string; role: string };
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
      if (!failed) {
        if (options.notices && applied.removed)
          await notice(options.notices, membershipNotice('removed', input.notice));
        return applied;
      }
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
