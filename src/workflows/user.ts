import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ContactSyncResult } from '../activities/salesforce';
import { MEMBERSHIP_BATCH, MEMBERSHIPS_WITH_CONTACT } from '../shared/batches';
import { ClerkDeleted, ClerkUser } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { contactFromUser, type ContactFields } from '../shared/mapping';
import { displayName, signUpNotice } from '../shared/notices';
import { notify, parseData } from './input';
import { email, salesforce, salesforceBulk } from './proxies';

/** What `onboardUser` did, as the Temporal UI shows it. */
export interface OnboardResult {
  contact: 'created' | 'updated' | 'unchanged';
  memberships: number;
  /** `uncertain`: retried past Resend's idempotency window after a lost answer; not sent again (at most once). */
  welcomeEmail: 'sent' | 'not this run' | 'no address' | 'uncertain';
}

/**
 * user.created: one activity looks up the memberships Clerk already has for the user (an invitation can be accepted
 * before this webhook lands), writes the Contact with the first ones, each with its Account, and hands the Slack
 * notice over; the rest (a user in hundreds of organizations) go in batches, and the notice after them; then the
 * welcome email, once ever.
 */
export async function onboardUser(event: ClerkEvent): Promise<OnboardResult> {
  const user = parseData(ClerkUser, event);
  const contact = contactFromUser(user);
  const who = displayName(user, user.id);
  const synced = await salesforce.onboardContact({
    contact,
    version: user.updated_at,
    welcomeEmailClaim: contact.Email ? event.svixId : undefined,
    who,
  });
  const { found } = synced;
  if (found.length > MEMBERSHIPS_WITH_CONTACT) {
    // Memberships this run created: their "joined" goes in this run's notice (a later membership event finds them).
    const joined = new Set(
      synced.memberships.filter((m) => m.outcome === 'created').map((m) => m.membershipId),
    );
    for (let i = MEMBERSHIPS_WITH_CONTACT; i < found.length; i += MEMBERSHIP_BATCH) {
      const batch = await salesforceBulk.syncMemberships({
        userId: user.id,
        memberships: found.slice(i, i + MEMBERSHIP_BATCH),
      });
      for (const id of batch.joined) joined.add(id);
    }
    if (synced.notice === 'after the memberships') {
      const organizations = found.filter((m) => joined.has(m.membership.Clerk_Membership_Id__c));
      await notify(signUpNotice(who, user.id, organizations));
    }
  }
  const welcomeEmail = await welcome(event, contact, synced);
  return { contact: synced.contact, memberships: found.length, welcomeEmail };
}

/** The welcome email, sent by the run that claimed it; a refusal for good releases the claim. */
async function welcome(
  event: ClerkEvent,
  contact: ContactFields,
  synced: ContactSyncResult,
): Promise<OnboardResult['welcomeEmail']> {
  if (!contact.Email) return 'no address';
  if (!synced.welcomeEmailClaimed) return 'not this run';
  const userId = contact.Clerk_User_Id__c;
  try {
    const sent = await email().sendWelcomeEmail({ userId, to: contact.Email, firstName: contact.FirstName });
    return sent === 'uncertain' ? 'uncertain' : 'sent';
  } catch (err) {
    // Refused for good (nothing went out): release the claim, so that a redelivery of this delivery may send it.
    if (refusedForGood(err) && synced.welcomeEmailRun)
      await salesforce.releaseWelcomeEmail({ userId, claim: event.svixId, run: synced.welcomeEmailRun });
    throw err;
  }
}

/** An activity that failed without retry: its service refused the request (a 4xx), so it did nothing. */
function refusedForGood(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.nonRetryable === true
  );
}

/** user.updated: the Contact's fields, unless Salesforce already holds a newer version of the user. */
export async function syncUser(event: ClerkEvent): Promise<{ contact: 'created' | 'updated' | 'unchanged' }> {
  const user = parseData(ClerkUser, event);
  const contact = await salesforce.upsertContact({
    contact: contactFromUser(user),
    version: user.updated_at,
  });
  return { contact };
}

/** user.deleted: the Contact kept as Deleted, without Account; its memberships removed. Final for the user. */
export async function markUserDeleted(event: ClerkEvent): Promise<{ membershipsRemoved: number }> {
  const { id } = parseData(ClerkDeleted, event);
  return salesforceBulk.markContactDeleted({ userId: id });
}
