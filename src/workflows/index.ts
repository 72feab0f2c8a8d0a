/** Every workflow the worker registers; the routing table (shared/events.ts) names them. */
export { onboardUser, syncUser, markUserDeleted } from './user';
export { syncOrganization, markOrganizationDeleted } from './organization';
export { syncMembership, removeMembership } from './membership';
export { postSlackNotices } from './notices';
export { createOrganizationForAccount } from './create-organization';
export { backfillFromClerk } from './backfill';
