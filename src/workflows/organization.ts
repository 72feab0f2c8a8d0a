import { ClerkDeleted, ClerkOrganization } from '../shared/clerk';
import type { ClerkEvent } from '../shared/events';
import { accountFromOrganization } from '../shared/mapping';
import { parseData } from './input';
import { salesforce } from './proxies';

/** A Salesforce record id (15 or 18 characters); anything else in the metadata is ignored. */
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** The Account an organization was created for by `POST /api/organizations`, from its private metadata. */
export function linkedAccountId(privateMetadata: Record<string, unknown> | null | undefined): string | undefined {
  const id = privateMetadata?.salesforceAccountId;
  return typeof id === 'string' && SALESFORCE_ID.test(id) ? id : undefined;
}

/** organization.created / .updated: the Account upserted on its Clerk id, unless Salesforce holds a newer version. */
export async function syncOrganization(event: ClerkEvent): Promise<{ account: 'created' | 'updated' | 'stale' }> {
  const org = parseData(ClerkOrganization, event);
  const account = await salesforce.upsertAccount({
    account: accountFromOrganization(org),
    version: org.updated_at,
    linkAccountId: linkedAccountId(org.private_metadata),
  });
  return { account };
}

/** organization.deleted: the Account kept as Deleted; its memberships removed; Contacts moved to another Account. */
export async function markOrganizationDeleted(event: ClerkEvent): Promise<{ membershipsRemoved: number; contactsMoved: number }> {
  const { id, slug } = parseData(ClerkDeleted, event);
  return salesforce.markAccountDeleted({ organizationId: id, slug });
}
