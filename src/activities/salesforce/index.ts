import { classified, classifySalesforce } from '../errors';
import { bulkActivities } from './bulk';
import type { SalesforceSession } from './engine';
import { eventActivities, type EventOptions } from './events';
import { membershipBatchActivities } from './memberships';

// Salesforce, as the worker's activities see it: engine.ts speaks to Salesforce (limits, paging, literal values),
// plans.ts holds the Composite plans of single events, events.ts their activities, memberships.ts a user's many
// memberships in batches, bulk.ts the deletions of any size.

/** Every Salesforce activity over the worker's shared session (and what a sign-up's step uses beside it). */
export function salesforceActivities(session: SalesforceSession, options: EventOptions) {
  return classified(classifySalesforce, {
    ...eventActivities(session, options),
    ...membershipBatchActivities(session),
    ...bulkActivities(session),
  });
}

/** The Salesforce activities' interface, for `proxyActivities`. */
export type SalesforceActivities = ReturnType<typeof salesforceActivities>;

export type { SalesforceSession } from './engine';
export type { ContactSyncResult, EventOptions } from './events';
export type { MembershipBatchResult } from './memberships';
export type { AccountMove, MembershipRemoval, PartialRemoval, UpsertOutcome } from './plans';
