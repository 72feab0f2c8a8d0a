import { ActivityFailure, ApplicationFailure, log, patched } from '@temporalio/workflow';
import type { MembershipRemoval, PartialRemoval } from '../activities/salesforce';
import { ClerkMembership } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { contactFromMembership, membershipSyncFrom } from '../shared/mapping';
import { displayName } from '../shared/notices';
import { parseData } from './input';
import { clerk, salesforce } from './proxies';

/** Issue 13: the Clerk look-up of a membership event is part of `upsertMembership`, one activity fewer. */
const LOOKUP_IN_UPSERT = 'membership-lookup-in-upsert';

/** A membership event's result when Clerk no longer has the membership. */
const GONE = 'skipped: no longer in Clerk';

/**
 * organizationMembership.created / .updated: Contact and Account ensured from the payload, the membership upserted
 * with its role, the Contact's AccountId set when it has none. A membership Clerk no longer has is not brought back:
 * the upsert activity looks it up in Clerk first, so it is read right before the write.
 */
export async function syncMembership(event: ClerkEvent): Promise<{ membership: string }> {
  const m = parseData(ClerkMembership, event);
  // Its Slack notice ("joined", "is now") leaves from the write itself, once the membership is created or changed.
  const upsert = { contact: contactFromMembership(m), sync: membershipSyncFrom(m), notice: noticeOf(m) };
  if (patched(LOOKUP_IN_UPSERT)) {
    const outcome = await salesforce.upsertMembership({ ...upsert, lookUpInClerk: true });
    return { membership: outcome === 'not in Clerk' ? GONE : outcome };
  }
  // Runs started before: the look-up was an activity of its own.
  const userId = m.public_user_data.user_id;
  const exists = await clerk.membershipExists({
    organizationId: m.organization.id,
    userId,
    membershipId: m.id,
  });
  if (exists === false) return { membership: GONE };
  return { membership: await salesforce.upsertMembership(upsert) };
}

/** What a membership's Slack notice names, as Clerk has them (never an email). */
function noticeOf(m: ClerkMembership): { who: string; organization: string; role: string } {
  return {
    who: displayName(m.public_user_data, m.public_user_data.user_id),
    organization: m.organization.name,
    role: m.role,
  };
}

type Undo = { step: string; run: () => Promise<unknown> };

/**
 * organizationMembership.deleted, a saga: the membership is removed and the Contact's AccountId moves to another
 * remaining membership's Account (or none), in one Salesforce call. When Salesforce rejects one of the two for
 * good, whatever the other applied is undone, so Salesforce is left as it was, and the run fails visibly, ready
 * for `clerk-sync replay`.
 */
export async function removeMembership(
  event: ClerkEvent,
): Promise<{ removed: boolean; accountMoved: boolean }> {
  const m = parseData(ClerkMembership, event);
  const userId = m.public_user_data.user_id;
  // Its Slack notice ("left") leaves from the removal itself, once done; a rolled-back removal tells nothing.
  const target = { userId, organizationId: m.organization.id, membershipId: m.id, notice: noticeOf(m) };
  let outcome: MembershipRemoval;
  try {
    outcome = await salesforce.deleteMembershipAndMoveContact(target);
  } catch (err) {
    const partial = partialRemovalOf(err);
    if (!partial) throw err;
    return rollBack(m, partial.step, undoFor(m, partial.applied), err);
  }
  return {
    removed: outcome.removed,
    accountMoved: outcome.moved !== null && outcome.moved.accountId !== outcome.moved.previousAccountId,
  };
}

/** What undoes an applied removal, newest first. */
function undoFor(m: ClerkMembership, applied: MembershipRemoval): Undo[] {
  const undo: Undo[] = [];
  const { moved } = applied;
  if (moved)
    undo.push({
      step: 'restore AccountId',
      run: () =>
        salesforce.setContactAccount({ contactId: moved.contactId, accountId: moved.previousAccountId }),
    });
  if (applied.removed)
    undo.push({
      step: 'restore membership',
      run: () => salesforce.restoreMembership({ sync: membershipSyncFrom(m) }),
    });
  return undo;
}

/** The applied part a rejected one-call removal reports (activities/salesforce.ts), if that is what failed. */
function partialRemovalOf(err: unknown): PartialRemoval | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const [details] = err.cause.details ?? [];
  return details && typeof details === 'object' && 'applied' in details
    ? (details as PartialRemoval)
    : undefined;
}

/** Runs the undo steps, then fails the run saying where the removal failed and what was undone. */
async function rollBack(m: ClerkMembership, step: string, undo: Undo[], err: unknown): Promise<never> {
  const undone: string[] = [];
  for (const { step: undoStep, run } of undo) {
    try {
      await run();
      undone.push(undoStep);
    } catch (undoErr) {
      log.error('compensation failed', {
        step: undoStep,
        error: undoErr instanceof Error ? undoErr.message : String(undoErr),
      });
    }
  }
  const cause =
    err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  throw ApplicationFailure.create({
    type: 'MembershipRemovalRolledBack',
    message:
      `removing membership ${m.id} failed at "${step}" (${cause}); ` +
      (undone.length === undo.length
        ? `rolled back: ${undone.join(', ') || 'nothing to undo'}`
        : `rollback incomplete: ${undone.join(', ')}`),
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}
