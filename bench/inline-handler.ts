import type { ClerkClient } from '@clerk/backend';
import type { IncomingWebhook } from '@slack/webhook';
import Koa from 'koa';
import getRawBody from 'raw-body';
import type { Resend } from 'resend';
import { Webhook } from 'svix';
import type { SalesforceSession } from '../src/activities/salesforce';

// What a user would write instead of clerk-sync (the seeds' shape): verify, then call Salesforce, Clerk, Resend
// and Slack inline before answering. No durability, no idempotency, no rate limits: a failure anywhere is a 500
// that Svix redelivers, re-running every call (a second welcome email). The fault suite drives `createInlineApp`
// through the same faults as the product to count what that loses and duplicates.

/** The clients the inline handler calls; the product's `createClients(config)` builds them. */
export interface InlineClients {
  salesforce: SalesforceSession;
  clerk: ClerkClient;
  resend: Resend;
  slack: IncomingWebhook;
}

interface UserData {
  id: string;
  first_name?: string | null;
  last_name?: string | null;
  primary_email_address_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
}

/** The inline webhook handler: `POST /webhooks/clerk` answers 200 once every downstream call is done. */
export function createInlineApp(options: { secret: string; clients: InlineClients; from: string }): Koa {
  const { salesforce, clerk, resend, slack } = options.clients;
  const verifier = new Webhook(options.secret);
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/webhooks/clerk') ctx.throw(404);
    const body = await getRawBody(ctx.req, { limit: 1024 * 1024 });
    let event: { type: string; data: UserData };
    try {
      verifier.verify(body, {
        'svix-id': ctx.get('svix-id'),
        'svix-timestamp': ctx.get('svix-timestamp'),
        'svix-signature': ctx.get('svix-signature'),
      });
      event = JSON.parse(body.toString('utf8')) as typeof event; // svix 2 verifies only
    } catch {
      return ctx.throw(401, 'invalid signature');
    }
    if (event.type !== 'user.created' && event.type !== 'user.updated') {
      ctx.body = { status: 'ignored' };
      return;
    }
    const user = event.data;
    const email = user.email_addresses?.find((e) => e.id === user.primary_email_address_id)?.email_address;
    const conn = await salesforce.connection();
    const contact = (await conn.sobject('Contact').upsert(
      {
        Clerk_User_Id__c: user.id,
        FirstName: user.first_name ?? null,
        LastName: user.last_name || email || user.id,
        Email: email ?? null,
        Clerk_Status__c: 'Active',
      },
      'Clerk_User_Id__c',
    )) as { id?: string };
    if (event.type === 'user.created') {
      const memberships = await clerk.users.getOrganizationMembershipList({ userId: user.id });
      for (const m of memberships.data) {
        const account = (await conn.sobject('Account').upsert(
          {
            Clerk_Organization_Id__c: m.organization.id,
            Name: m.organization.name,
            Clerk_Status__c: 'Active',
          },
          'Clerk_Organization_Id__c',
        )) as { id?: string };
        await conn
          .sobject('Clerk_Membership__c')
          .upsert(
            { Clerk_Membership_Id__c: m.id, Role__c: m.role, Contact__c: contact.id, Account__c: account.id },
            'Clerk_Membership_Id__c',
          );
      }
      if (email) {
        const { error } = await resend.emails.send({
          from: options.from,
          to: [email],
          subject: 'Welcome aboard',
          text: `Hi ${user.first_name ?? 'there'},\n\nWelcome aboard!\n`,
        });
        if (error) throw new Error(`Resend: ${error.message}`);
      }
      await slack.send({ text: `New sign-up: ${user.id}` });
    }
    ctx.body = { status: 'synced' };
  });
  return app;
}
