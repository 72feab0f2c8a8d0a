import type { ClerkClient } from '@clerk/backend';
import type { IncomingWebhook } from '@slack/webhook';
import type { Connection } from 'jsforce';
import Koa from 'koa';
import getRawBody from 'raw-body';
import type { Resend } from 'resend';
import { Webhook } from 'svix';
import type { SalesforceSession } from '../src/activities/salesforce';

// The baseline (issue 17): what a careful developer writes by hand instead of clerk-sync. Verify, then Salesforce,
// Clerk, Resend and Slack inline before answering, for every event type the product handles (SPEC.md's "Event →
// effect"). Careful where it costs a few lines: upserts on the External IDs, each event's writes as one Composite
// request with allOrNone, reads before the writes that must not repeat, and Resend's idempotency key. Any failure
// answers 500 and Svix delivers the event again, which re-runs it whole. What it does not have: durability beyond
// Svix's retries, versions (an older event overwrites a newer one, a late event revives a deleted record), retries
// of its own, and batching of Slack notices (one message per event).

/** The clients the inline handler calls; the product's `createClients(config)` builds them. */
export interface InlineClients {
  salesforce: SalesforceSession;
  clerk: ClerkClient;
  resend: Resend;
  slack: IncomingWebhook;
}

/** The names Clerk gives a user, in user events and in a membership's `public_user_data`. */
interface Person {
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
}

interface ClerkUser extends Person {
  id: string;
  primary_email_address_id?: string | null;
  primary_phone_number_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
  phone_numbers?: { id: string; phone_number: string }[];
}

interface ClerkOrganization {
  id: string;
  name: string;
  slug?: string | null;
}

interface ClerkMembership {
  id: string;
  role: string;
  organization: ClerkOrganization;
  /** `identifier`: the primary email, or a phone number or username when there is none. */
  public_user_data: Person & { user_id: string; identifier?: string | null };
}

type Fields = Record<string, unknown>;
interface Subrequest {
  method: 'PATCH' | 'DELETE';
  /** After `/services/data/vXX.X/`. */
  url: string;
  body?: unknown;
}
interface SaveResult {
  success: boolean;
  errors: { statusCode: string }[];
}
const alreadyDeleted = (r: SaveResult) =>
  r.errors.length > 0 && r.errors.every((e) => e.statusCode === 'ENTITY_IS_DELETED');
interface SubResult {
  httpStatusCode: number;
  referenceId: string;
  body: unknown;
}

/** SPEC's Contact: Salesforce requires LastName, so the username, the email's local part or `Unknown` stands in. */
function contactFields(p: Person, email: string | null): Fields {
  return {
    FirstName: p.first_name || null,
    LastName: p.last_name || p.username || email?.split('@')[0] || 'Unknown',
    Email: email,
    Clerk_Status__c: 'Active',
  };
}

function userFields(u: ClerkUser): Fields {
  const email = u.email_addresses?.find((e) => e.id === u.primary_email_address_id)?.email_address ?? null;
  const phone = u.phone_numbers?.find((p) => p.id === u.primary_phone_number_id)?.phone_number ?? null;
  return { ...contactFields(u, email), Phone: phone };
}

const accountFields = (o: { name: string; slug?: string | null }): Fields => ({
  Name: o.name,
  Clerk_Slug__c: o.slug ?? null,
  Clerk_Status__c: 'Active',
});

const displayName = (p: Person, id: string) => [p.first_name, p.last_name].filter(Boolean).join(' ') || id;

/** A SOQL string literal (jsforce escapes nothing in a raw query). */
const literal = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Lookups by External ID, as upserts and Friendly references write them. */
const contactRef = (userId: string) => ({ Clerk_User_Id__c: userId });
const accountRef = (organizationId: string) => ({ Clerk_Organization_Id__c: organizationId });

const upsert = (type: string, field: string, value: string, body: Fields): Subrequest => ({
  method: 'PATCH',
  url: `sobjects/${type}/${field}/${encodeURIComponent(value)}`,
  body,
});
const update = (type: string, id: string, body: Fields): Subrequest => ({
  method: 'PATCH',
  url: `sobjects/${type}/${id}`,
  body,
});
/** sObject Collections take 200 records a request. */
function chunks<T>(items: T[], size = 200): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );
}
/** Per record, not all or none: one already deleted (a concurrent redelivery got there first) is done, not failed. */
const deleteMany = (ids: string[]): Subrequest[] =>
  chunks(ids).map((c) => ({ method: 'DELETE', url: `composite/sobjects?ids=${c.join(',')}` }));
/** Updates (`composite/sobjects`) or upserts (`composite/sobjects/{type}/{field}`) of many records. */
const collection = (url: string, type: string, records: Fields[]): Subrequest[] =>
  chunks(records).map((c) => ({
    method: 'PATCH',
    url,
    body: { allOrNone: true, records: c.map((r) => ({ attributes: { type }, ...r })) },
  }));

/** Reads (every page) and transactional writes over one jsforce connection. */
function salesforce(conn: Connection, apiVersion: string) {
  return {
    async query<T extends Fields>(soql: string): Promise<T[]> {
      return (await conn.query<T>(soql, { autoFetch: true, maxFetch: 1_000_000 })).records;
    },
    /**
     * One Composite request with allOrNone per 25 subrequests (one for every event here but a large organization's
     * deletion). A collection inside answers 200 with a result per record, so Salesforce keeps the other
     * subrequests when a record fails: the handler still answers 500, and the redelivery writes everything again.
     */
    async write(subrequests: Subrequest[]): Promise<void> {
      for (const [n, part] of chunks(subrequests, 25).entries()) {
        const { compositeResponse } = await conn.requestPost<{ compositeResponse: SubResult[] }>(
          '/composite',
          {
            allOrNone: true,
            compositeRequest: part.map((s, i) => ({
              ...s,
              url: `/services/data/v${apiVersion}/${s.url}`,
              referenceId: `w${n * 25 + i}`,
            })),
          },
        );
        const failed = compositeResponse.find(
          (r) =>
            r.httpStatusCode >= 400 ||
            (Array.isArray(r.body) && (r.body as SaveResult[]).some((x) => !x.success && !alreadyDeleted(x))),
        );
        if (failed)
          throw new Error(`Salesforce refused ${failed.referenceId}: ${JSON.stringify(failed.body)}`);
      }
    },
  };
}
type Salesforce = ReturnType<typeof salesforce>;

/** Each event type's work; resolves once every call is done. */
function syncs(clients: InlineClients, from: string): Record<string, (data: unknown) => Promise<void>> {
  const { clerk, resend, slack } = clients;
  const sf = async (): Promise<Salesforce> =>
    salesforce(await clients.salesforce.connection(), clients.salesforce.apiVersion);
  const notify = async (text: string) => {
    await slack.send({
      text: text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!),
    });
  };

  /** organizationMembership.created / .updated; `notice` words the change for Slack. */
  const upsertMembership = async (
    m: ClerkMembership,
    notice: (who: string, org: string, role: string) => string,
  ) => {
    const { user_id: userId } = m.public_user_data;
    const org = m.organization;
    const s = await sf();
    const [[contact], [account]] = await Promise.all([
      s.query<{ Id: string; AccountId: string | null }>(
        `SELECT Id, AccountId FROM Contact WHERE Clerk_User_Id__c = ${literal(userId)}`,
      ),
      s.query<{ Id: string }>(`SELECT Id FROM Account WHERE Clerk_Organization_Id__c = ${literal(org.id)}`),
    ]);
    // Contact and Account are created from the payload only when missing: a membership's copy of the user and the
    // organization may be older than what their own events wrote. AccountId is set when the Contact has none.
    const writes: Subrequest[] = [];
    if (!account) writes.push(upsert('Account', 'Clerk_Organization_Id__c', org.id, accountFields(org)));
    if (!contact) {
      const identifier = m.public_user_data.identifier;
      const email = identifier?.includes('@') ? identifier : null;
      writes.push(
        upsert('Contact', 'Clerk_User_Id__c', userId, {
          ...contactFields(m.public_user_data, email),
          Account: accountRef(org.id),
        }),
      );
    } else if (!contact.AccountId) {
      writes.push(update('Contact', contact.Id, { Account: accountRef(org.id) }));
    }
    writes.push(
      upsert('Clerk_Membership__c', 'Clerk_Membership_Id__c', m.id, {
        Role__c: m.role,
        Contact__r: contactRef(userId),
        Account__r: accountRef(org.id),
      }),
    );
    await s.write(writes);
    await notify(notice(displayName(m.public_user_data, userId), org.name, m.role));
  };

  /** organization.created / .updated. */
  const upsertAccount = async (data: unknown) => {
    const org = data as ClerkOrganization;
    await (await sf()).write([upsert('Account', 'Clerk_Organization_Id__c', org.id, accountFields(org))]);
  };

  return {
    async 'user.created'(data) {
      const user = data as ClerkUser;
      // A user can join an organization (an invitation) before this webhook arrives: ask Clerk.
      // A 404: the user is already deleted in Clerk (their user.deleted follows), so they belong nowhere.
      const { data: memberships } = await clerk.users
        .getOrganizationMembershipList({ userId: user.id, limit: 100 })
        .catch((err: unknown) => {
          if ((err as { status?: unknown }).status === 404) return { data: [] };
          throw err;
        });
      // Accounts, then the Contact pointing at the first one, then the memberships: one transaction.
      const first = memberships[0]?.organization.id;
      await (
        await sf()
      ).write([
        ...collection(
          'composite/sobjects/Account/Clerk_Organization_Id__c',
          'Account',
          memberships.map((m) => ({
            Clerk_Organization_Id__c: m.organization.id,
            ...accountFields(m.organization),
          })),
        ),
        upsert('Contact', 'Clerk_User_Id__c', user.id, {
          ...userFields(user),
          ...(first && { Account: accountRef(first) }),
        }),
        ...collection(
          'composite/sobjects/Clerk_Membership__c/Clerk_Membership_Id__c',
          'Clerk_Membership__c',
          memberships.map((m) => ({
            Clerk_Membership_Id__c: m.id,
            Role__c: m.role,
            Contact__r: contactRef(user.id),
            Account__r: accountRef(m.organization.id),
          })),
        ),
      ]);
      const email = userFields(user).Email as string | null;
      if (email) {
        // Keyed on the user, not the delivery: the promise is one email per user, and a second message about the
        // same sign-up (a replay, a re-sent event) carries another svix-id. Resend keeps the key for 24 hours.
        const { error } = await resend.emails.send(
          {
            from,
            to: [email],
            subject: 'Welcome aboard',
            text: `Hi ${user.first_name || 'there'},\n\nWelcome aboard!\n`,
          },
          { idempotencyKey: `welcome-email/${user.id}` },
        );
        if (error) throw new Error(`Resend: ${error.message}`);
      }
      const joined = memberships.map((m) => `${m.organization.name} as ${m.role}`).join(', ');
      await notify(
        `New sign-up: ${displayName(user, user.id)} (${user.id})${joined ? `, joined ${joined}` : ''}`,
      );
    },

    async 'user.updated'(data) {
      const user = data as ClerkUser;
      await (await sf()).write([upsert('Contact', 'Clerk_User_Id__c', user.id, userFields(user))]);
    },

    async 'user.deleted'(data) {
      const { id } = data as { id: string };
      const s = await sf();
      const [[contact], memberships] = await Promise.all([
        s.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${literal(id)}`),
        s.query<{ Id: string }>(
          `SELECT Id FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = ${literal(id)}`,
        ),
      ]);
      if (!contact) return; // never synced: nothing to keep
      await s.write([
        ...deleteMany(memberships.map((m) => m.Id)),
        update('Contact', contact.Id, { Clerk_Status__c: 'Deleted', AccountId: null }),
      ]);
    },

    'organization.created': upsertAccount,
    'organization.updated': upsertAccount,

    async 'organization.deleted'(data) {
      const org = literal((data as { id: string }).id);
      const s = await sf();
      const [[account], memberships, contacts, others] = await Promise.all([
        s.query<{ Id: string }>(`SELECT Id FROM Account WHERE Clerk_Organization_Id__c = ${org}`),
        s.query<{ Id: string }>(
          `SELECT Id FROM Clerk_Membership__c WHERE Account__r.Clerk_Organization_Id__c = ${org}`,
        ),
        s.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Account.Clerk_Organization_Id__c = ${org}`),
        // Where each member whose Account this was goes next: their oldest other live membership's Account.
        s.query<{ Contact__c: string; Account__c: string }>(
          `SELECT Contact__c, Account__c FROM Clerk_Membership__c WHERE Contact__r.Account.Clerk_Organization_Id__c = ${org} ` +
            `AND Account__r.Clerk_Organization_Id__c != ${org} AND Account__r.Clerk_Status__c != 'Deleted' ORDER BY CreatedDate`,
        ),
      ]);
      if (!account) return;
      const next = new Map<string, string>();
      for (const o of others) if (!next.has(o.Contact__c)) next.set(o.Contact__c, o.Account__c);
      await s.write([
        update('Account', account.Id, { Clerk_Status__c: 'Deleted' }),
        ...deleteMany(memberships.map((m) => m.Id)),
        ...collection(
          'composite/sobjects',
          'Contact',
          contacts.map((c) => ({ Id: c.Id, AccountId: next.get(c.Id) ?? null })),
        ),
      ]);
    },

    'organizationMembership.created': (data) =>
      upsertMembership(data as ClerkMembership, (who, org, role) => `${who} joined ${org} as ${role}`),
    'organizationMembership.updated': (data) =>
      upsertMembership(data as ClerkMembership, (who, org, role) => `${who} is now ${role} in ${org}`),

    async 'organizationMembership.deleted'(data) {
      const m = data as ClerkMembership;
      const { user_id: userId } = m.public_user_data;
      const s = await sf();
      const [[contact], memberships] = await Promise.all([
        s.query<{ Id: string; Account: { Clerk_Organization_Id__c: string } | null }>(
          `SELECT Id, Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c = ${literal(userId)}`,
        ),
        s.query<{
          Id: string;
          Clerk_Membership_Id__c: string;
          Account__c: string;
          Account__r: { Clerk_Organization_Id__c: string };
        }>(
          `SELECT Id, Clerk_Membership_Id__c, Account__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c ` +
            `WHERE Contact__r.Clerk_User_Id__c = ${literal(userId)} AND Account__r.Clerk_Status__c != 'Deleted' ORDER BY CreatedDate`,
        ),
      ]);
      // Both writes in one transaction, each only when still needed: a redelivery after a crash finds them done.
      const writes: Subrequest[] = [];
      const removed = memberships.find((x) => x.Clerk_Membership_Id__c === m.id);
      if (removed) writes.push(...deleteMany([removed.Id]));
      if (contact && contact.Account?.Clerk_Organization_Id__c === m.organization.id) {
        const other = memberships.find((x) => x.Account__r.Clerk_Organization_Id__c !== m.organization.id);
        writes.push(update('Contact', contact.Id, { AccountId: other?.Account__c ?? null }));
      }
      if (writes.length > 0) await s.write(writes);
      await notify(`${displayName(m.public_user_data, userId)} left ${m.organization.name}`);
    },
  };
}

/** The inline webhook handler: `POST /webhooks/clerk` answers 200 once every downstream call is done, else 500. */
export function createInlineApp(options: { secret: string; clients: InlineClients; from: string }): Koa {
  const verifier = new Webhook(options.secret);
  const sync = syncs(options.clients, options.from);
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/webhooks/clerk') ctx.throw(404);
    const body = await getRawBody(ctx.req, { limit: 1024 * 1024 });
    let event: { type: string; data: unknown };
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
    const run = Object.hasOwn(sync, event.type) ? sync[event.type] : undefined;
    if (!run) {
      ctx.body = { status: 'ignored' };
      return;
    }
    try {
      await run(event.data);
      ctx.body = { status: 'synced' };
    } catch (err) {
      // Whatever failed (Salesforce, Clerk, Resend, Slack), Svix delivers again: every call above may repeat.
      ctx.status = 500;
      ctx.body = { error: err instanceof Error ? err.message : String(err) };
    }
  });
  return app;
}
