import { classified, classifySalesforce } from '../errors';
import { bulkActivities } from './bulk';
import type { SalesforceSession } from './engine';
import { eventActivities } from './events';
import { membershipBatchActivities } from './memberships';

// Salesforce, as the worker's activities see it: engine.ts speaks to Salesforce (limits, paging, literal values),
// plans.ts holds the Composite plans of single events, events.ts their activities, memberships.ts a user's many
// memberships in batches, bulk.ts the deletions of any size.

/** Every Salesforce activity over the worker's shared session; `welcomeEmail` is off when no email can be sent. */
export function salesforceActivities(session: SalesforceSession, options: { welcomeEmail: boolean }) {
  return classified(classifySalesforce, {
    ...eventActivities(session, options),
    ...membershipBatchActivities(session),
    ...bulkActivities(session),
  });
}

/** The Salesforce activities' interface, for `proxyActivities`. */
export type SalesforceActivities = ReturnType<typeof salesforceActivities>;

export type { SalesforceSession } from './engine';
export type { ContactSyncResult } from './events';
export type { MembershipBatchResult } from './memberships';
export type { AccountMove, MembershipRemoval, PartialRemoval, UpsertOutcome } from './plans';
