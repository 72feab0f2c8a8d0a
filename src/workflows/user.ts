import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { MEMBERSHIP_BATCH, MEMBERSHIPS_WITH_CONTACT } from '../shared/batches';
import { ClerkDeleted, ClerkUser } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { contactFromUser } from '../shared/mapping';
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
  const synced = await salesforce.upsertContact({
    contact,
    version: user.updated_at,
    memberships: memberships.slice(0, MEMBERSHIPS_WITH_CONTACT),
    welcomeEmailClaim: contact.Email ? event.svixId : undefined,
  });
  for (let i = MEMBERSHIPS_WITH_CONTACT; i < memberships.length; i += MEMBERSHIP_BATCH) {
    await salesforceBulk.syncMemberships({
      userId: user.id,
      memberships: memberships.slice(i, i + MEMBERSHIP_BATCH),
    });
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
  await notify(`New sign-up: ${displayName(user, user.id)} (${user.id})`);
  return { contact: synced.contact, memberships: memberships.length, welcomeEmail };
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
  const synced = await salesforce.upsertContact({ contact: contactFromUser(user), version: user.updated_at });
  return { contact: synced.contact };
}

/** user.deleted: the Contact kept as Deleted, without Account; its memberships removed. Final for the user. */
export async function markUserDeleted(event: ClerkEvent): Promise<{ membershipsRemoved: number }> {
  const { id } = parseData(ClerkDeleted, event);
  return salesforceBulk.markContactDeleted({ userId: id });
}
