import type { Clients } from '../clients';
import { backfillActivities } from './backfill';
import { clerkActivities } from './clerk';
import { emailActivities, type WelcomeEmailSettings } from './email';
import { salesforceActivities, type SalesforceSession } from './salesforce';
import { slackActivities } from './slack';

/** A worker whose configuration has no Salesforce fails loudly at the first activity, never silently. */
const missingSalesforce: SalesforceSession = {
  apiVersion: '62.0',
  connection: () => Promise.reject(new Error('Salesforce is not configured (SALESFORCE_CLIENT_ID/SECRET)')),
};

/** The sync activities (main task queue): Salesforce and Clerk. */
export function createSyncActivities(clients: Clients) {
  return {
    // A welcome email is claimed on the Contact only when it can be sent: switching email on later still welcomes.
    ...salesforceActivities(clients.salesforce ?? missingSalesforce, {
      welcomeEmail: clients.resend !== undefined,
    }),
    ...clerkActivities(clients.clerk),
    ...backfillActivities(clients.salesforce ?? missingSalesforce, clients.clerk),
  };
}

/** The welcome email (its own rate-limited task queue). */
export function createEmailActivities(clients: Clients, settings: WelcomeEmailSettings | undefined) {
  return emailActivities(clients.resend, settings);
}

/** The Slack notice (its own rate-limited task queue). */
export function createSlackActivities(clients: Clients) {
  return slackActivities(clients.slack);
}

export type { SalesforceActivities } from './salesforce';
export type { ClerkActivities } from './clerk';
export type { EmailActivities } from './email';
export type { SlackActivities } from './slack';
