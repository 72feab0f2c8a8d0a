import { ApplicationFailure, log } from '@temporalio/workflow';
import { ClerkMembership } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { contactFromMembership, membershipSyncFrom } from '../shared/mapping';
import { displayName, notify, parseData } from './input';
import { clerk, salesforce } from './proxies';

/**
 * organizationMembership.created / .updated: Contact and Account ensured from the payload, the membership upserted
 * with its role, the Contact's AccountId set when it has none. A membership Clerk no longer has is not brought back.
 */
export async function syncMembership(event: ClerkEvent): Promise<{ membership: string }> {
  const m = parseData(ClerkMembership, event);
  const userId = m.public_user_data.user_id;
  const exists = await clerk.membershipExists({
    organizationId: m.organization.id,
    userId,
    membershipId: m.id,
  });
  if (exists === false) return { membership: 'skipped: no longer in Clerk' };
  const outcome = await salesforce.upsertMembership({
    contact: contactFromMembership(m),
    sync: membershipSyncFrom(m),
  });
  const who = displayName(m.public_user_data, userId);
  if (outcome === 'created') await notify(`${who} joined ${m.organization.name} as ${m.role}`);
  if (outcome === 'updated') await notify(`${who} is now ${m.role} in ${m.organization.name}`);
  return { membership: outcome };
}

/**
 * organizationMembership.deleted, a saga: the membership is removed, then the Contact's AccountId moves to another
 * remaining membership's Account (or none). A step that fails for good undoes the steps before it, newest first,
 * so Salesforce is left as it was, and the run fails visibly, ready for `clerk-sync replay`.
 */
export async function removeMembership(
  event: ClerkEvent,
): Promise<{ removed: boolean; accountMoved: boolean }> {
  const m = parseData(ClerkMembership, event);
  const sync = membershipSyncFrom(m);
  const userId = m.public_user_data.user_id;
  const undo: { step: string; run: () => Promise<unknown> }[] = [];
  let step = 'remove membership';
  let removed = false;
  let moved: Awaited<ReturnType<typeof salesforce.repointContactAccount>> = null;
  try {
    removed = await salesforce.deleteMembership({ membershipId: m.id });
    if (removed)
      undo.unshift({ step: 'restore membership', run: () => salesforce.restoreMembership({ sync }) });
    step = 'move the Contact to another Account';
    moved = await salesforce.repointContactAccount({
      userId,
      organizationId: m.organization.id,
      membershipId: m.id,
    });
    const previous = moved;
    if (previous) {
      undo.unshift({
        step: 'restore AccountId',
        run: () =>
          salesforce.setContactAccount({
            contactId: previous.contactId,
            accountId: previous.previousAccountId,
          }),
      });
    }
  } catch (err) {
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
  if (removed) await notify(`${displayName(m.public_user_data, userId)} left ${m.organization.name}`);
  return { removed, accountMoved: moved !== null && moved.accountId !== moved.previousAccountId };
}
