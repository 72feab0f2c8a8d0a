import type { Clients } from '../clients';
import { backfillActivities } from './backfill';
import { clerkActivities } from './clerk';
import { emailActivities, type WelcomeEmailSettings } from './email';
import { salesforceActivities, type SalesforceSession } from './salesforce';
import { noticeCourier, slackActivities } from './slack';

/** A worker whose configuration has no Salesforce fails loudly at the first activity, never silently. */
const missingSalesforce: SalesforceSession = {
  apiVersion: '62.0',
  connection: () => Promise.reject(new Error('Salesforce is not configured (SALESFORCE_CLIENT_ID/SECRET)')),
};

/** The sync activities (main task queue): Salesforce and Clerk, and the hand-over of their Slack notices. */
export function createSyncActivities(clients: Clients) {
  return {
    // A welcome email is claimed on the Contact only when it can be sent: switching email on later still welcomes.
    // The sign-up's Clerk look-up and the notices' hand-over live in the Salesforce writes they belong to (issue 13).
    ...salesforceActivities(clients.salesforce ?? missingSalesforce, {
      welcomeEmail: clients.resend !== undefined,
      clerk: clients.clerk,
      notices: clients.slack ? noticeCourier() : undefined,
    }),
    ...clerkActivities(clients.clerk),
    ...backfillActivities(clients.salesforce ?? missingSalesforce, clients.clerk),
  };
}

/** The Slack notifier's messages, and a workflow's hand-over of a notice (the notifier's own task queue). */
export function createNoticeActivities(clients: Clients) {
  return slackActivities(clients.slack, noticeCourier());
}

/** The welcome email (its own rate-limited task queue). */
export function createEmailActivities(clients: Clients, settings: WelcomeEmailSettings | undefined) {
  return emailActivities(clients.resend, settings);
}

export type { SalesforceActivities } from './salesforce';
export type { ClerkActivities } from './clerk';
export type { EmailActivities } from './email';
export type { SlackActivities } from './slack';
