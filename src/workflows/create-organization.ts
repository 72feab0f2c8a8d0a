import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import { ClerkOrganizationId } from '../shared/search-attributes';
import { clerk, salesforce } from './proxies';

/** What `POST /api/organizations` asks for. */
export interface CreateOrganizationRequest {
  accountId: string;
  createdBy?: string;
}

/**
 * `POST /api/organizations` (the Create Organization API): a Clerk organization for an existing Salesforce Account,
 * named after it, and the two linked. Idempotent per Account (the workflow id is the Account id).
 */
export async function createOrganizationForAccount(
  request: CreateOrganizationRequest,
): Promise<{ organizationId: string; accountId: string; created: boolean }> {
  const account = await salesforce.getAccount({ accountId: request.accountId });
  if (!account) {
    throw ApplicationFailure.create({
      type: 'AccountNotFound',
      message: `Salesforce has no Account ${request.accountId}`,
      nonRetryable: true,
    });
  }
  if (account.organizationId)
    return { organizationId: account.organizationId, accountId: request.accountId, created: false };
  const { organizationId, created } = await clerk.createClerkOrganization({
    accountId: request.accountId,
    name: account.name,
    createdBy: request.createdBy,
  });
  upsertSearchAttributes([{ key: ClerkOrganizationId, value: organizationId }]);
  await salesforce.linkAccount({ accountId: request.accountId, organizationId });
  return { organizationId, accountId: request.accountId, created };
}
