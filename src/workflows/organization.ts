import { ClerkDeleted, ClerkOrganization } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { accountFromOrganization, linkedAccountId } from '../shared/mapping';
import { parseData } from './input';
import { salesforce, salesforceBulk } from './proxies';

/** organization.created / .updated: the Account upserted on its Clerk id, unless Salesforce holds a newer version. */
export async function syncOrganization(
  event: ClerkEvent,
): Promise<{ account: 'created' | 'updated' | 'unchanged' }> {
  const org = parseData(ClerkOrganization, event);
  const account = await salesforce.upsertAccount({
    account: accountFromOrganization(org),
    version: org.updated_at,
    linkAccountId: linkedAccountId(org.private_metadata),
  });
  return { account };
}

/** organization.deleted: the Account kept as Deleted; its memberships removed; Contacts moved to another Account. */
export async function markOrganizationDeleted(
  event: ClerkEvent,
): Promise<{ membershipsRemoved: number; contactsMoved: number }> {
  const { id, slug } = parseData(ClerkDeleted, event);
  return salesforceBulk.markAccountDeleted({ organizationId: id, slug });
}
