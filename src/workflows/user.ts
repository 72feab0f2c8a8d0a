import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { MEMBERSHIP_BATCH, MEMBERSHIPS_WITH_CONTACT } from '../shared/batches';
import { ClerkDeleted, ClerkUser } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { contactFromUser, type MembershipSync } from '../shared/mapping';
import { displayName, notify, parseData } from './input';
import { clerk, email, salesforce, salesforceBulk } from './proxies';

/** What `onboardUser` did, as the Temporal UI shows it. */
export interface OnboardResult {
  contact: 'created' | 'updated' | 'unchanged';
  memberships: number;
  /** `uncertain`: retried past Resend's idempotency window after a lost answer; not sent again (at most once). */
  welcomeEmail: 'sent' | 'not this run' | 'no address' | 'uncertain';
}

/**
 * user.created: the Contact; the memberships Clerk already has for the user (an invitation can be accepted
 * before this webhook lands), each with its Account — the first ones in the Contact's own call, the rest (a user in
 * hundreds of organizations) in batches; then the welcome email, once ever; a Slack notice.
 */
export async function onboardUser(event: ClerkEvent): Promise<OnboardResult> {
  const user = parseData(ClerkUser, event);
  const contact = contactFromUser(user);
  const found = await clerk.listUserMemberships({ userId: user.id });
  const memberships = found === 'skipped' ? [] : found;
  const synced = await salesforce.onboardContact({
    contact,
    version: user.updated_at,
    memberships: memberships.slice(0, MEMBERSHIPS_WITH_CONTACT),
    welcomeEmailClaim: contact.Email ? event.svixId : undefined,
  });
  // Memberships this run created: their "joined" goes in this run's notice (a later membership event finds them).
  const joined = new Set(
    synced.memberships.filter((m) => m.outcome === 'created').map((m) => m.membershipId),
  );
  for (let i = MEMBERSHIPS_WITH_CONTACT; i < memberships.length; i += MEMBERSHIP_BATCH) {
    const batch = await salesforceBulk.syncMemberships({
      userId: user.id,
      memberships: memberships.slice(i, i + MEMBERSHIP_BATCH),
    });
    for (const id of batch.joined) joined.add(id);
  }
  let welcomeEmail: OnboardResult['welcomeEmail'] = contact.Email ? 'not this run' : 'no address';
  if (synced.welcomeEmailClaimed && contact.Email) {
    try {
      const sent = await email().sendWelcomeEmail({
        userId: user.id,
        to: contact.Email,
        firstName: contact.FirstName,
      });
      if (sent === 'uncertain') welcomeEmail = 'uncertain';
    } catch (err) {
      // Refused for good (nothing went out): release the claim, so that a redelivery of this delivery may send it.
      if (refusedForGood(err) && synced.welcomeEmailRun)
        await salesforce.releaseWelcomeEmail({
          userId: user.id,
          claim: event.svixId,
          run: synced.welcomeEmailRun,
        });
      throw err;
    }
    if (welcomeEmail !== 'uncertain') welcomeEmail = 'sent';
  }
  const organizations = memberships.filter((m) => joined.has(m.membership.Clerk_Membership_Id__c));
  await notify(`New sign-up: ${displayName(user, user.id)} (${user.id})${joinedText(organizations)}`);
  return { contact: synced.contact, memberships: memberships.length, welcomeEmail };
}

/** The notice's account of the organizations a sign-up joined: a few by name, then how many more. */
function joinedText(joined: MembershipSync[]): string {
  if (joined.length === 0) return '';
  const named = joined.slice(0, 5).map((m) => `${m.account.Name} as ${m.membership.Role__c}`);
  const more = joined.length > named.length ? `, and ${joined.length - named.length} more` : '';
  return `, joined ${named.join(', ')}${more}`;
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
